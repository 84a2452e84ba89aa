"""The dataset toolkit: read, validate, count, convert and split fine-tuning data, streaming.

Entry points: `reader.iter_examples` / `reader.load_conversations`, `validate.validate_file`,
`convert.convert_file`, `split.split_file`, `tokens.get_encoding` / `tokens.encoding_for_model`.
"""
