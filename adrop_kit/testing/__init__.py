"""Contract testing: hypothesis strategies drawn from the catalog (`strategies`) and the
invalid-payload edits they use (`mutations`), the contract probe that sends them to an
endpoint and compares verdicts (`contract`) with its report (`contract_report`), the one way
tools start a local server and reach it in process (`local`), and the pytest plugin
(`pytest_plugin`: fixtures `adrop_server`, `adrop_sender`, `adrop_catalog`).

Layer: above `send` and `server`; may import every layer below the front ends.
"""
