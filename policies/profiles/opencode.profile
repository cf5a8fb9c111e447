# opencode, installed with `npm install -g opencode-ai` or its installer.
# Its configuration lives in ~/.config/opencode, its sessions and login in
# ~/.local/share/opencode, its prompt history and TUI settings in
# ~/.local/state/opencode, its caches in ~/.cache/opencode.
[Profile]
Description=opencode
Command=opencode

[Environment]
Pass=ANTHROPIC_API_KEY;OPENAI_API_KEY;GEMINI_API_KEY;OPENROUTER_API_KEY;
Set=OPENCODE_DISABLE_AUTOUPDATE=true;

[Filesystem]
State=~/.config/opencode/;~/.local/share/opencode/;~/.local/state/opencode/;~/.cache/opencode/;
