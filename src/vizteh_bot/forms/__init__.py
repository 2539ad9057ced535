"""Request forms from TOML files: the packaged default, or the owner's own (FORM_FILE)."""
