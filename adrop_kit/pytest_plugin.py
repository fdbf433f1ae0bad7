"""pytest plugin (entry point `pytest11`): fixtures for testing your own Adrop integration.

Placeholder until the contract-testing issue lands; it must import cheaply and safely.
"""
