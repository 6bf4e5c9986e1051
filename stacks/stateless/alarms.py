"""Alarms, made one way: breaching at or above the threshold, quiet when there is no data; and the topic every
alarm of a stack tells, with an e-mail subscription when context `alarm_email` names an address."""

from typing import cast

import jsii
from aws_cdk import Aspects, Aws, Duration, IAspect, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct, IConstruct

KEY_DELETION_WINDOW = Duration.days(7)


def alarm_on(
    scope: Construct,
    construct_id: str,
    description: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    evaluation_periods: int = 1,
) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


class AlarmTopic(Construct):
    """An SNS topic for the stack's alarms: encrypted with a key of its own (CloudWatch cannot publish to a topic
    under the AWS managed `aws/sns` key, whose policy names no service), TLS only, published to by this account's
    CloudWatch alarms only. Every alarm of the stack is wired to it, when it fires and when it clears."""

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self,
            "Key",
            description="Pinhole alarm topic",
            enable_key_rotation=True,
            pending_window=KEY_DELETION_WINDOW,
            removal_policy=RemovalPolicy.DESTROY,
        )
        cloudwatch_alarms = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        from_this_account = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"},
        }
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishEncrypted",
                principals=[cloudwatch_alarms],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy: this key
                conditions=from_this_account,
            )
        )
        self.topic = sns.Topic(self, "Topic", display_name="Pinhole alarms", master_key=key, enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[cloudwatch_alarms],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=from_this_account,
            )
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        Aspects.of(Stack.of(self)).add(_TellTopic(self.topic))


@jsii.implements(IAspect)
class _TellTopic:
    """Every alarm of the stack, made anywhere (an L2 Alarm, or a bare L1 CfnAlarm), notifies the topic when it
    fires and when it clears."""

    def __init__(self, topic: sns.ITopic) -> None:
        self.topic = topic

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cloudwatch.Alarm):
            node.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
            node.add_ok_action(cloudwatch_actions.SnsAction(self.topic))
        elif isinstance(node, cloudwatch.CfnAlarm) and not isinstance(node.node.scope, cloudwatch.Alarm):
            cast(cloudwatch.CfnAlarm, node).add_property_override("AlarmActions", [self.topic.topic_arn])
            cast(cloudwatch.CfnAlarm, node).add_property_override("OKActions", [self.topic.topic_arn])
