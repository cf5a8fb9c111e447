# Gemini CLI (Google), installed with `npm install -g @google/gemini-cli`.
# Its settings and login live in ~/.gemini. It restarts itself through a
# parent process (after a folder trust choice, an auth or settings change),
# so GEMINI_CLI_NO_RELAUNCH must stay unset: without that parent, a restart
# ends the session with status 199.
[Profile]
Description=Gemini CLI (Google)
Command=gemini

[Environment]
Pass=GEMINI_API_KEY;GOOGLE_API_KEY;GOOGLE_CLOUD_PROJECT;GOOGLE_GENAI_USE_VERTEXAI;

[Filesystem]
State=~/.gemini/;

# The hosts Gemini CLI cannot work without: the Gemini API, Code Assist and
# the Google login.
[Rule gemini-api]
Kind=host
Match=generativelanguage.googleapis.com:443;cloudcode-pa.googleapis.com:443;oauth2.googleapis.com:443;accounts.google.com:443;
Decision=allow
