"""Local IAM enforcement: each function's AWS calls are authorized against its template role, as on AWS.

- identity.py   who is calling (a context variable set around each invocation, inherited by its threads)
- operations.py which IAM action(s) and resource(s) AWS authorizes for an SDK call
- evaluator.py  AWS's policy evaluation logic (Deny wins; Action/Resource wildcards; conditions)
- context.py    the condition keys AWS sets for a function's call
- policies.py   the template's identity- and resource-based policies, resolved to local ARNs
- authorizer.py decisions (cached), AWS-shaped refusals, and the botocore hook that applies them
- binding.py    the template's resources bound to a test's moto world (integration tests)
"""
