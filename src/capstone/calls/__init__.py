"""The call product: call metadata, one screenshot, a recording, who is who, who speaks, the timeline, the summary, the report."""
