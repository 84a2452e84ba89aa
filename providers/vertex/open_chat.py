"""Chat with a tuned open model tunedeck deployed on a dedicated Vertex endpoint (Model Garden's vLLM container).

google-genai's `generate_content` is Gemini's API: an open model served by vLLM on a dedicated endpoint does not
answer it. Vertex documents three ways in, and this module uses `endpoints.predict` with the vLLM container's
chat-completions instance format:

    POST https://{region}-aiplatform.googleapis.com/v1/{endpoint}:predict
    {"instances": [{"@requestFormat": "chatCompletions", "messages": [{"role": …, "content": …}, …],
                    "max_tokens": N, "temperature": T}]}
    → {"predictions": <an OpenAI chat.completion object> (or a one-element list of it), "deployedModelId": …}

Why this shape: tunedeck deploys the container as `vllm.entrypoints.api_server` behind predict route `/generate`
(providers/vertex/registry.py, as Vertex's Model Garden notebooks do), and Vertex forwards `:predict` to that
route, where the container applies the model's own chat template to `messages`. The alternatives fit worse:
- the OpenAI-compatible `v1beta1/{endpoint}/chat/completions` is a beta surface that Vertex documents as
  working only for some deployments (the container must serve the OpenAI route, which ours is not started as);
- `:rawPredict` forwards any body to the same route, so it would take the same body while skipping Vertex's
  request checks, for nothing gained;
- a plain `"prompt"` instance would need the model's chat template applied here, with a tokenizer tunedeck
  does not download.
The request goes over plain HTTPS with the adapter's credentials rather than through `PredictionServiceClient`,
because that typed client parses `predictions` as a list of protobuf Values and the container answers the
chat-completions format with one JSON object. `:predict` does not stream: the reply arrives as one chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from providers import errors
from providers.base import ChatChunk, ChatMessage
from providers.vertex import endpoints
from providers.vertex.config import VertexConfig

REQUEST_FORMAT = "chatCompletions"


def _unversioned(name: str) -> str:
    return name.split("@", 1)[0].rstrip("/")


def _dedicated(endpoint: Any) -> bool:
    return any("dedicated_resources" in d for d in endpoint.deployed_models)


def serving_endpoint(config: VertexConfig, model: str) -> Any | None:
    """The dedicated endpoint serving `model` (an endpoint name, a serving copy's registry name, or the gs://
    folder of tuned weights a deployment serves), or None when it is not one: a Gemini model, served per token
    through google-genai. Only endpoints with dedicated resources count: a tuned Gemini model's endpoint has none.
    Weights that nothing serves raise NotFoundError saying to deploy them."""
    from google.api_core import exceptions as core

    client = endpoints.endpoint_client(config)
    if "/endpoints/" in model:
        try:
            endpoint = client.get_endpoint(name=_unversioned(model))
        except (core.NotFound, core.PermissionDenied):
            return None  # not an endpoint this project has: let google-genai say what it is
        return endpoint if _dedicated(endpoint) else None
    if not (model.startswith("gs://") or "/models/" in model):
        return None  # a publisher model name ("gemini-2.5-flash"): Gemini's API
    candidates = [e for e in client.list_endpoints(parent=config.parent) if _dedicated(e)]
    wanted = _unversioned(model)
    for endpoint in candidates:
        if any(_unversioned(d.model) == wanted for d in endpoint.deployed_models):
            return endpoint
    if model.startswith("gs://"):
        registry = endpoints.model_client(config)
        for endpoint in candidates:
            for deployed in endpoint.deployed_models:
                served = registry.get_model(name=_unversioned(deployed.model))
                if f"--model={wanted}" in {a.rstrip("/") for a in served.container_spec.args}:
                    return endpoint
        # Weights in a bucket answer nothing by themselves; google-genai would only say it cannot parse the name.
        raise errors.NotFoundError(
            f"{model} is not deployed on any endpoint of this project, so nothing serves it.",
            f"Deploy it first: `tunedeck endpoints deploy {model}` (it shows the hourly rate and asks).",
            provider="vertex",
        )
    return None


def request_body(messages: list[ChatMessage], *, max_tokens: int, temperature: float) -> dict[str, Any]:
    instance = {
        "@requestFormat": REQUEST_FORMAT,
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "max_tokens": max_tokens,
        "temperature": temperature,
    }
    return {"instances": [instance]}


def _host(config: VertexConfig, endpoint: Any) -> str:
    if config.genai_base_url:
        return config.genai_base_url  # an explicit endpoint (a regional host, or the loopback fake in tests)
    # An endpoint with its own DNS answers only there; tunedeck's endpoints use the regional host.
    dns = getattr(endpoint, "dedicated_endpoint_dns", "")
    return f"https://{dns}" if dns else f"https://{config.aiplatform_endpoint}"


def chat(
    config: VertexConfig, endpoint: Any, messages: list[ChatMessage], *, max_tokens: int, temperature: float
) -> Iterator[ChatChunk]:
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials = config.credentials
    if credentials is None:
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    url = f"{_host(config, endpoint)}/v1/{endpoint.name}:predict"
    body = request_body(messages, max_tokens=max_tokens, temperature=temperature)
    import requests

    try:
        with AuthorizedSession(credentials) as session:
            response = session.post(url, json=body, timeout=config.timeout_s)
    except requests.RequestException as exc:
        raise errors.UnavailableError(
            f"Could not reach {endpoint.name}: {type(exc).__name__}.",
            "Check the network and try again.",
            provider="vertex",
        ) from exc
    if response.status_code >= 400:
        raise _error(response.status_code, response.text, endpoint.name)
    yield from parse_reply(response.json(), endpoint.name)


def parse_reply(answer: Any, endpoint_name: str) -> Iterator[ChatChunk]:
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    completion: Any = predictions[0] if isinstance(predictions, list) and predictions else predictions
    try:
        choice = completion["choices"][0]
        text = choice["message"]["content"] or ""
        usage = completion.get("usage") or {}
    except (KeyError, IndexError, TypeError, AttributeError):
        raise errors.UnavailableError(
            f"{endpoint_name} answered, but not with a chat completion.",
            "Is it serving a chat model with Model Garden's vLLM container? `tunedeck endpoints list` shows it.",
            provider="vertex",
        ) from None
    yield ChatChunk(text)
    yield ChatChunk(
        "",
        finish_reason=choice.get("finish_reason") or "stop",
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )


def _error(status: int, text: str, endpoint_name: str) -> errors.ProviderError:
    try:
        message = json.loads(text)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = text[:300]
    where = f"{endpoint_name} refused the chat ({status}): {message}"
    if status in (401, 403):
        return errors.AuthenticationError(where, "Check the credentials tunedeck uses for Vertex.", provider="vertex")
    if status == 404:
        return errors.NotFoundError(where, "`tunedeck endpoints list` shows what is deployed.", provider="vertex")
    if status == 429:
        return errors.RateLimitedError(where, "Try again in a moment.", provider="vertex")
    if status >= 500:
        return errors.UnavailableError(where, "Try again in a moment.", provider="vertex")
    return errors.InvalidRequestError(where, provider="vertex")
