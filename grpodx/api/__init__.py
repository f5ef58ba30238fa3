"""Chat-completions calls for API patients and judges: endpoint, client, structured output, accounting."""

from grpodx.api.client import APICallError, ChatClient, ChatResult, ChatSession
from grpodx.api.endpoint import Endpoint
from grpodx.api.prices import DEFAULT_PRICES, Price, PriceTable
from grpodx.api.structured import StructuredOutput, StructuredReply, parse_json_object
from grpodx.api.usage import CallRecord, UsageLedger, shared_ledger

__all__ = ["APICallError", "CallRecord", "ChatClient", "ChatResult", "ChatSession", "DEFAULT_PRICES", "Endpoint",
           "Price", "PriceTable", "StructuredOutput", "StructuredReply", "UsageLedger", "parse_json_object",
           "shared_ledger"]
