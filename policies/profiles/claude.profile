# Claude Code (Anthropic), installed with `npm install -g @anthropic-ai/claude-code`
# or the native installer. Its settings, login and history live in ~/.claude;
# CLAUDE_CONFIG_DIR keeps its ~/.claude.json there too, so one folder is all
# of $HOME it sees. Its first run checks that api.anthropic.com answers
# before it offers a login, so a new user needs that host granted.
[Profile]
Description=Claude Code (Anthropic)
Command=claude

[Environment]
Pass=ANTHROPIC_API_KEY;ANTHROPIC_AUTH_TOKEN;ANTHROPIC_BASE_URL;ANTHROPIC_MODEL;CLAUDE_CODE_USE_BEDROCK;CLAUDE_CODE_USE_VERTEX;
Set=CLAUDE_CONFIG_DIR=~/.claude;DISABLE_AUTOUPDATER=1;

[Filesystem]
State=~/.claude/;

# The hosts Claude Code cannot work without: the API and its login.
[Rule claude-api]
Kind=host
Match=api.anthropic.com:443;console.anthropic.com:443;claude.ai:443;
Decision=allow
