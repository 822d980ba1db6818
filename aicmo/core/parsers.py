"""The API's JSON parser: DRF's, with a nesting cap checked before parsing.

Python's JSON parser recurses once per level and raises RecursionError near 1,000 levels, which DRF let become a
500. Here a linear scan of the brackets outside strings refuses anything nested deeper than AICMO_MAX_JSON_DEPTH
with a ParseError (400; a FAILED VALIDATION_ERROR envelope on the generate endpoints) before `json.loads` runs."""

import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

_SPECIAL = re.compile(r'["\\\[\]{}]')


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether `text` opens more than `limit` arrays/objects inside each other (strings and escapes skipped)."""
    depth, in_string, skip = 0, False, -1
    for match in _SPECIAL.finditer(text):
        i = match.start()
        if i == skip:  # the character after a backslash in a string
            continue
        char = text[i]
        if in_string:
            if char == "\\":
                skip = i + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"JSON parse error - {error}")
        limit = settings.AICMO_MAX_JSON_DEPTH
        if json_depth_exceeds(text, limit):
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels.")
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except (ValueError, RecursionError) as error:
            raise ParseError(f"JSON parse error - {error}")
