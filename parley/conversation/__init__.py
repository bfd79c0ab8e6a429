"""What a turn says: persona prompts, history trimming, sentence segmentation, the turn itself."""
