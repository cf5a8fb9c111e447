# Codex CLI (OpenAI), installed with `npm install -g @openai/codex`.
# Its configuration, login and sessions live in ~/.codex (CODEX_HOME).
[Profile]
Description=Codex CLI (OpenAI)
Command=codex

[Environment]
Pass=OPENAI_API_KEY;OPENAI_BASE_URL;
Set=CODEX_HOME=~/.codex;

[Filesystem]
State=~/.codex/;
