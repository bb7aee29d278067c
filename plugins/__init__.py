"""The institutions (制度), one plugin each. Found through the `township.plugins` entry points."""
