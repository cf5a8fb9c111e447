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

# The hosts Codex cannot work without: the API and its ChatGPT login.
[Rule codex-api]
Kind=host
Match=api.openai.com:443;auth.openai.com:443;chatgpt.com:443;
Decision=allow
