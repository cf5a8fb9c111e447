# aider, installed with pipx, uv tool or pip into a virtual environment.
# Its caches and analytics settings live in ~/.aider.
[Profile]
Description=aider (AI pair programming)
Command=aider

[Environment]
Pass=OPENAI_API_KEY;ANTHROPIC_API_KEY;GEMINI_API_KEY;DEEPSEEK_API_KEY;OPENROUTER_API_KEY;OLLAMA_API_BASE;
Set=AIDER_CHECK_UPDATE=false;

[Filesystem]
State=~/.aider/;
