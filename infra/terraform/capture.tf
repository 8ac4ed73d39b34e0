# Email capture (docs/deploy.md, docs/interactions.md): managers BCC or forward customer emails to
# the capture address; the bank's mail relay (which checks SPF/DKIM/DMARC) delivers them over SMTP
# to an internal Network Load Balancer on port 25, which forwards to the `capture` tasks
# (`manage.py run_email_capture` on 2525) with the relay's own address preserved, so the process
# checks it against FINPULSE_CAPTURE_ALLOWED_PEERS. Nothing is created for it until the bank names
# its relay (capture_relay_cidrs): no open port waits for a sender nobody vetted.

locals {
  capture_enabled = length(var.capture_relay_cidrs) > 0
}

resource "aws_security_group" "capture" {
  name        = "${local.name}-capture"
  description = "SMTP from the bank's mail relay to the email capture tasks"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "capture_from_relay" {
  for_each          = toset(var.capture_relay_cidrs)
  security_group_id = aws_security_group.capture.id
  description       = "SMTP from the bank's mail relay (client address preserved by the NLB)"
  cidr_ipv4         = each.value
  from_port         = 2525
  to_port           = 2525
  ip_protocol       = "tcp"
}

# The NLB's health checks come from its own addresses in the app subnets: a TCP connect only,
# never a MAIL command, so they need no place in FINPULSE_CAPTURE_ALLOWED_PEERS.
resource "aws_vpc_security_group_ingress_rule" "capture_health_checks" {
  for_each          = toset(aws_subnet.app[*].cidr_block)
  security_group_id = aws_security_group.capture.id
  description       = "NLB health checks from the app subnets"
  cidr_ipv4         = each.value
  from_port         = 2525
  to_port           = 2525
  ip_protocol       = "tcp"
}

resource "aws_lb" "capture" {
  # checkov:skip=CKV_AWS_91:NLB access logs exist only for TLS listeners; each captured email is an audit event and the process logs every refusal.
  count                            = local.capture_enabled ? 1 : 0
  name                             = "${local.name}-capture"
  load_balancer_type               = "network"
  internal                         = true
  subnets                          = aws_subnet.app[*].id
  enable_deletion_protection       = true
  enable_cross_zone_load_balancing = true
}

resource "aws_lb_target_group" "capture" {
  count                = local.capture_enabled ? 1 : 0
  name                 = "${local.name}-capture"
  port                 = 2525
  protocol             = "TCP"
  target_type          = "ip"
  vpc_id               = aws_vpc.main.id
  preserve_client_ip   = true
  deregistration_delay = 30
  health_check {
    protocol            = "TCP"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "capture" {
  # checkov:skip=CKV2_AWS_74:SMTP on port 25 inside the VPC, from the bank's relay only; the relay and the process speak SMTP, not TLS at the load balancer.
  count             = local.capture_enabled ? 1 : 0
  load_balancer_arn = aws_lb.capture[0].arn
  port              = 25
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.capture[0].arn
  }
}

# Two tasks, one per AZ at least: the relay queues and retries (451) while one restarts.
resource "aws_ecs_service" "capture" {
  count                              = local.capture_enabled ? 1 : 0
  name                               = "capture"
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.app["capture"].arn
  desired_count                      = var.services_enabled ? var.capture_count : 0
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  health_check_grace_period_seconds  = 30
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = local.service_network.subnets
    security_groups  = [aws_security_group.app.id, aws_security_group.capture.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.capture[0].arn
    container_name   = "capture"
    container_port   = 2525
  }
  depends_on = [aws_lb_listener.capture]
}
