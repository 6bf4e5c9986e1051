"""API.md "Endpoints": clients and the local cloud find everything from these outputs (six, and the web
app's URL, API.md "Next wave")."""

from aws_cdk.assertions import Match, Template

API_OUTPUTS = {"HttpApiUrl", "WebSocketUrl", "MediaBaseUrl", "UserPoolId", "UserPoolClientId", "Region", "WebAppUrl"}


def test_stateless_stack_outputs_are_the_api_contract_keys(stateless) -> None:
    # Given the stateless stack
    # When its outputs are listed
    outputs = set(stateless.get("Outputs", {}))

    # Then their logical ids are exactly the keys of API.md
    assert outputs == API_OUTPUTS


def test_outputs_point_at_the_right_endpoints(stateless) -> None:
    # Given the stateless template
    template = Template.from_json(stateless)

    # Then URLs have the scheme a client needs, and the region is the stack's
    template.has_output("HttpApiUrl", {"Value": {"Fn::Join": ["", Match.array_with(["https://"])]}})
    template.has_output("WebSocketUrl", {"Value": {"Fn::Join": ["", Match.array_with(["wss://"])]}})
    template.has_output("MediaBaseUrl", {"Value": {"Fn::Join": ["", Match.array_with(["https://"])]}})
    template.has_output("Region", {"Value": {"Ref": "AWS::Region"}})
    template.has_output("WebAppUrl", {"Value": {"Fn::Join": ["", Match.array_with(["https://", "/"])]}})
    assert stateless["Outputs"]["WebSocketUrl"]["Value"]["Fn::Join"][1][-1] == "/prod"
