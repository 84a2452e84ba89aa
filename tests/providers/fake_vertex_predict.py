"""`endpoints.predict` for the fake Vertex server: an endpoint with a model deployed on dedicated resources (Model
Garden's vLLM container) answering the container's chat-completions instance format, as strictly as Vertex and the
container check it:
- the endpoint must exist (404) and have a deployed model (400 FAILED_PRECONDITION: "no deployed model");
- the body is `{"instances": [...]}` and nothing else (Vertex refuses unknown top-level fields: 400);
- each instance names `"@requestFormat": "chatCompletions"` and carries `messages`, each with a role of
  system/user/assistant and string content; `max_tokens` a positive integer, `temperature` a number >= 0; any
  other key is refused (400), so a Gemini-shaped body (`contents`, `generationConfig`) fails loudly.
The answer is an OpenAI chat.completion object under `predictions`, with `usage`, as the container sends it.
"""

from __future__ import annotations

from typing import Any

from tests.providers.fake_vertex_registry import rpc_error

_INSTANCE_KEYS = {"@requestFormat", "messages", "max_tokens", "temperature", "top_p", "top_k"}
_ROLES = {"system", "user", "assistant"}


def _refused(body: dict[str, Any]) -> str | None:
    if set(body) != {"instances"}:
        return f"Invalid JSON payload: unknown or missing fields {sorted(set(body) ^ {'instances'})}"
    instances = body["instances"]
    if not isinstance(instances, list) or not instances:
        return "instances must be a non-empty list"
    for instance in instances:
        if not isinstance(instance, dict):
            return "each instance must be an object"
        if unknown := set(instance) - _INSTANCE_KEYS:
            return f"unknown instance fields {sorted(unknown)}"
        if instance.get("@requestFormat") != "chatCompletions":
            return "this container takes a `prompt`, or `@requestFormat: chatCompletions` with `messages`"
        messages = instance.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages must be a non-empty list"
        for message in messages:
            if not isinstance(message, dict) or set(message) != {"role", "content"}:
                return "each message is {role, content}"
            if message["role"] not in _ROLES or not isinstance(message["content"], str):
                return f"bad message {message!r}"
        tokens = instance.get("max_tokens", 1)
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
            return "max_tokens must be a positive integer"
        temperature = instance.get("temperature", 0.0)
        if not isinstance(temperature, int | float) or temperature < 0:
            return "temperature must be a number >= 0"
    return None


def predict(endpoint: Any, body: dict[str, Any], words: list[str], requests: list[dict[str, Any]]) -> tuple[int, Any]:
    """(status, JSON) for `POST …/endpoints/E:predict` (`endpoint` None: no such endpoint)."""
    if endpoint is None:
        return 404, rpc_error(404, "NOT_FOUND", "Endpoint not found")
    if not endpoint.deployed_models:
        return 400, rpc_error(400, "FAILED_PRECONDITION", f"Endpoint {endpoint.name} has no deployed model")
    if problem := _refused(body):
        return 400, rpc_error(400, "INVALID_ARGUMENT", problem)
    requests.append(body)
    instance = body["instances"][0]
    reply = "".join(words)
    completion_tokens = min(len(words), instance.get("max_tokens", len(words)))
    prompt_tokens = sum(len(m["content"].split()) for m in instance["messages"])
    completion = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": endpoint.deployed_models[0].model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return 200, {"predictions": completion, "deployedModelId": endpoint.deployed_models[0].id}
