"""Speech-to-text and text-to-speech adapters (OpenAI, local Whisper, Piper, espeak-ng)."""
