"""Vertex AI: datasets on GCS, Gemini tuning jobs via google-genai, endpoints via google-cloud-aiplatform."""
