"""fairway's engine: CRM data in, one coaching focus per rep and the conversation out.

Pure Python over pandas, scipy and durable_rules; it never imports Flask. Its packages
follow the way data flows:

- ``sources``      CRM exports and warehouse syncs, turned into dataset folders by a mapping
- ``dataset``      the data contract: reading, validation (every problem named), the typed Dataset
- ``aggregation``  the period under review and the heavy per-rep aggregates (activity cube, ...)
- ``metrics``      per-rep metrics, benchmarks, goals, the success plan, series and trends
- ``statistics``   significance tests and the comparison of every rep with every gap
- ``rules``        the catalog compiled to durable_rules, and the one adapter around it
- ``diagnosis``    findings down the pyramid, their impact, the focus; output documents
- ``dialogue``     the diagnostic conversation, as a pure state machine
- ``catalog``      the coaching catalog (rules/, learning_library/) as frozen specs
- ``yamlspec``     the one place YAML is parsed, and the typed-spec validation on top of it
- ``demo``         the deterministic demo org generator
"""
__version__ = "0.2.0"
