"""Local stand-ins for the OpenAI and Anthropic APIs, an OpenID Connect issuer and an OAuth 2.0
authorization server, for tests and offline development.

They speak the real wire formats (so the official SDKs talk to them unchanged) and act out a
`Script`: replies, tool calls, errors before or during a stream, garbage, stalls.
"""

from everything_app.testing.anthropic_server import AnthropicStandin
from everything_app.testing.oidc_server import (
    OAuthServerStandin,
    OidcIssuerStandin,
    User,
    generate_key,
    unsigned_token,
)
from everything_app.testing.openai_server import OpenAIStandin
from everything_app.testing.script import (
    Behaviour,
    ErrorMidStream,
    Fail,
    Malformed,
    RecordedRequest,
    Reply,
    Script,
    ScriptedToolCall,
    Stall,
    ToolCalls,
    Truncate,
)
from everything_app.testing.serve import serve

__all__ = [
    "AnthropicStandin",
    "Behaviour",
    "ErrorMidStream",
    "Fail",
    "Malformed",
    "OAuthServerStandin",
    "OidcIssuerStandin",
    "OpenAIStandin",
    "RecordedRequest",
    "Reply",
    "Script",
    "ScriptedToolCall",
    "Stall",
    "ToolCalls",
    "Truncate",
    "User",
    "generate_key",
    "serve",
    "unsigned_token",
]
