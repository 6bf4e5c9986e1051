"""The one place that creates the logger, tracer and metrics (service name and namespace come from
the POWERTOOLS_* environment the function factory sets)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
