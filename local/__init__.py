"""The local cloud: runs the synthesized CDK app on this machine (moto + in-process Lambda handlers)."""
