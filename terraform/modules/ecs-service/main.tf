# One callgate service on Fargate: task definition, service with Service Connect and a deployment circuit
# breaker (a failing deployment rolls back by itself), its own log group, security group and IAM roles,
# autoscaling and a running-tasks alarm. Used once per service by modules/stack.

locals {
  full_name   = "${var.prefix}-${var.name}"
  all_ports   = merge(var.ports, { ops = var.ops_port })
  log_group   = "/ecs/${var.prefix}/${var.name}"
  secret_arns = distinct(values(var.secrets))
  # The service exports its spans to the collector beside it (services/common/src/tracing).
  tracing_env = var.tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT = "http://localhost:4318" } : {}
}

resource "aws_cloudwatch_log_group" "service" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_security_group" "service" {
  name        = local.full_name
  description = "${var.name}: ingress only from the ALB or the services that call it (rules in modules/stack)"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

# Outbound: Twilio, Google and AWS APIs over HTTPS, and other services, PostgreSQL and Redis in the VPC.
resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.service.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
  description       = "Outbound to AWS APIs, Twilio, Google and the VPC"
}

resource "aws_ecs_task_definition" "service" {
  family                   = local.full_name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root file system is read-only; the process writes only to /tmp (an ephemeral task volume).
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode(concat([
    {
      name                   = var.name
      image                  = var.image
      essential              = true
      readonlyRootFilesystem = true
      user                   = "node"
      portMappings = [
        for port_name, port in local.all_ports : {
          name          = port_name
          containerPort = port
          protocol      = "tcp"
          appProtocol   = port_name == "grpc" ? "grpc" : "http"
        }
      ]
      mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      # An empty value is an optional variable left unset (e.g. AUTH_UPSTREAM_PROVIDERS with no provider): not passed.
      environment = [
        for key, value in merge(var.environment, local.tracing_env, { BIND_HOST = "0.0.0.0", METRICS_PORT = tostring(var.ops_port) }) : {
          name  = key
          value = value
        } if value != ""
      ]
      secrets = [for key, arn in var.secrets : { name = key, valueFrom = arn }]
      healthCheck = {
        command     = ["CMD", "node", "/usr/local/lib/callgate/healthcheck.mjs"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 30
      }
      # SIGTERM first (tini forwards it, the service drains), SIGKILL after this.
      stopTimeout = 30
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service.name
          awslogs-region        = var.region
          awslogs-stream-prefix = var.name
        }
      }
    }
    ], var.tracing ? [
    # The ADOT collector: receives the service's OTLP spans on localhost and forwards them to X-Ray
    # (its built-in ECS default configuration). Not essential: the service runs on if it stops.
    {
      name                   = "adot-collector"
      image                  = var.adot_image
      essential              = false
      readonlyRootFilesystem = true
      command                = ["--config=/etc/ecs/ecs-default-config.yaml"]
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service.name
          awslogs-region        = var.region
          awslogs-stream-prefix = "adot"
        }
      }
    }
  ] : []))
}

resource "aws_ecs_service" "service" {
  name                               = var.name
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.service.arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = length(var.load_balancers) > 0 ? 60 : null
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = true
  tags                               = var.tags

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  dynamic "load_balancer" {
    for_each = var.load_balancers
    content {
      target_group_arn = load_balancer.value.target_group_arn
      container_name   = var.name
      container_port   = local.all_ports[load_balancer.value.port_name]
    }
  }

  service_connect_configuration {
    enabled   = true
    namespace = var.service_connect_namespace_arn

    dynamic "service" {
      for_each = var.service_connect_port_name == null ? [] : [var.service_connect_port_name]
      content {
        port_name      = service.value
        discovery_name = var.name

        client_alias {
          port     = local.all_ports[service.value]
          dns_name = var.name
        }
      }
    }
  }

  # Autoscaling owns the task count after creation.
  lifecycle {
    ignore_changes = [desired_count]
  }
}
