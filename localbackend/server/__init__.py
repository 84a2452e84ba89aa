"""The local backend's HTTP server: OpenAI- and Anthropic-compatible routes over the jobs runner and chat engine."""
