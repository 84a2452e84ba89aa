"""Provider adapters: OpenAI, Vertex AI, Anthropic and the local backend. They never import the UI."""
