"""The intrinsic-function resolver over a two-stack assembly."""

from pathlib import Path

import pytest

from local.template import CloudAssembly, TemplateError

STATEFUL = {
    "Resources": {"Table": {"Type": "AWS::DynamoDB::GlobalTable", "Properties": {}}},
    "Outputs": {
        "TableExport": {"Value": {"Ref": "Table"}, "Export": {"Name": "Stateful:TableName"}},
        "StreamExport": {
            "Value": {"Fn::GetAtt": ["Table", "StreamArn"]},
            "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:Stream"}},
        },
    },
}
STATELESS = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}


@pytest.fixture
def assembly():
    assembly = CloudAssembly.from_templates({"Stateful": STATEFUL, "Stateless": STATELESS}, Path("."))
    assembly.set_physical(assembly.stacks["Stateful"].resources["Table"], "users", StreamArn="arn:stream/1")
    assembly.set_physical(assembly.stacks["Stateless"].resources["Fn"], "fn", Arn="arn:aws:lambda:fn")
    return assembly


def test_ref_and_getatt_resolve_to_local_physical_values(assembly):
    stack = assembly.stacks["Stateless"]
    assert assembly.resolve(stack, {"Ref": "Fn"}) == "fn"
    assert assembly.resolve(stack, {"Fn::GetAtt": ["Fn", "Arn"]}) == "arn:aws:lambda:fn"
    assert assembly.resolve(stack, {"Fn::GetAtt": "Fn.Arn"}) == "arn:aws:lambda:fn"


def test_pseudo_parameters_are_the_local_account_and_region(assembly):
    stack = assembly.stacks["Stateless"]
    value = {
        "Fn::Join": [
            ":",
            [
                {"Ref": "AWS::Partition"},
                {"Ref": "AWS::Region"},
                {"Ref": "AWS::AccountId"},
                {"Ref": "AWS::URLSuffix"},
                {"Ref": "AWS::StackName"},
            ],
        ]
    }
    assert assembly.resolve(stack, value) == "aws:us-east-1:123456789012:amazonaws.com:Stateless"


def test_import_value_reads_the_other_stacks_export(assembly):
    stack = assembly.stacks["Stateless"]
    assert assembly.resolve(stack, {"Fn::ImportValue": "Stateful:TableName"}) == "users"
    assert assembly.resolve(stack, {"Fn::ImportValue": "Stateful:Stream"}) == "arn:stream/1"


def test_import_value_reads_the_export_as_it_is_now_not_as_first_read(assembly):
    # Given an export read once
    stack = assembly.stacks["Stateless"]
    assert assembly.resolve(stack, {"Fn::ImportValue": "Stateful:TableName"}) == "users"
    # When its resource's physical value changes (a resource provisioned again)
    assembly.set_physical(assembly.stacks["Stateful"].resources["Table"], "users-2", StreamArn="arn:stream/2")
    # Then both kinds of export name read the new value
    assert assembly.resolve(stack, {"Fn::ImportValue": "Stateful:TableName"}) == "users-2"
    assert assembly.resolve(stack, {"Fn::ImportValue": "Stateful:Stream"}) == "arn:stream/2"


def test_sub_select_split_compose(assembly):
    stack = assembly.stacks["Stateless"]
    assert assembly.resolve(stack, {"Fn::Sub": ["${Fn}-${Name}-${!Literal}", {"Name": "n"}]}) == "fn-n-${Literal}"
    assert assembly.resolve(stack, {"Fn::Sub": "${Fn.Arn}"}) == "arn:aws:lambda:fn"
    split = {"Fn::Split": ["/", {"Fn::Sub": "a/${Fn}/c"}]}
    assert assembly.resolve(stack, {"Fn::Select": [1, split]}) == "fn"


def test_unknown_reference_is_a_template_error(assembly):
    with pytest.raises(TemplateError):
        assembly.resolve(assembly.stacks["Stateless"], {"Ref": "Missing"})
    with pytest.raises(TemplateError):
        assembly.resolve(assembly.stacks["Stateless"], {"Fn::ImportValue": "Nobody:Exports"})
