# A plain interactive shell: the empty sandbox and nothing more.
[Profile]
Description=Interactive shell (bash)
Command=bash
