"""Caption corpus: streamed import (COCO JSON, narratives JSONL, text, CSV), generation, storage and stats."""
