# The distribution's 5xx share (its own errors and the origins'). CloudFront publishes its metrics in
# us-east-1 only, and an alarm notifies only a topic of its own region: so a topic there too, with the
# same subscribers as the stack's (docs/runbooks/ConsoleEdge5xxRateHigh.md).

resource "aws_sns_topic" "edge_alarms" {
  provider = aws.us_east_1
  name     = "${var.name}-edge-alarms"
  tags     = var.tags
}

resource "aws_sns_topic_subscription" "edge_email" {
  provider  = aws.us_east_1
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.edge_alarms.arn
  protocol  = "email"
  endpoint  = each.key
}

data "aws_iam_policy_document" "edge_alarms_topic" {
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.edge_alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_sns_topic_policy" "edge_alarms" {
  provider = aws.us_east_1
  arn      = aws_sns_topic.edge_alarms.arn
  policy   = data.aws_iam_policy_document.edge_alarms_topic.json
}

resource "aws_cloudwatch_metric_alarm" "edge_server_errors" {
  provider            = aws.us_east_1
  alarm_name          = "${var.name}-console-edge-5xx-rate"
  alarm_description   = "More than ${var.server_error_rate_alarm}% of the console distribution's requests answered 5xx. Runbook: docs/runbooks/ConsoleEdge5xxRateHigh.md"
  namespace           = "AWS/CloudFront"
  metric_name         = "5xxErrorRate"
  dimensions          = { DistributionId = aws_cloudfront_distribution.console.id, Region = "Global" }
  statistic           = "Average"
  period              = 60
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.server_error_rate_alarm
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.edge_alarms.arn]
  ok_actions          = [aws_sns_topic.edge_alarms.arn]
  tags                = var.tags
}
