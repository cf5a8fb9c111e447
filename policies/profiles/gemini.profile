# Gemini CLI (Google), installed with `npm install -g @google/gemini-cli`.
# Its settings and login live in ~/.gemini.
[Profile]
Description=Gemini CLI (Google)
Command=gemini

[Environment]
Pass=GEMINI_API_KEY;GOOGLE_API_KEY;GOOGLE_CLOUD_PROJECT;GOOGLE_GENAI_USE_VERTEXAI;

[Filesystem]
State=~/.gemini/;
