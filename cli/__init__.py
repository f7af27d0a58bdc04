"""grantflow's command line (installed as the import package ``grantflow_cli``)."""
