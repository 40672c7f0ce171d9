"""The `yishiting` command. Every subcommand takes `--config PATH` as its own option."""

from __future__ import annotations

from typing import Any

import click

from ..db import SchemaTooNew
from . import (
    admin,
    agenda,
    agenda_carrying,
    agenda_report,
    api_keys,
    backup,
    check,
    classify,
    community,
    delivery,
    fake,
    inbound,
    meetings,
    menu,
    model,
    people,
    polls,
    publicity,
    report,
    reps,
    rules,
    serve,
    simulate,
    staff,
    staff_remove,
    status,
    tickets,
    tickets_file,
)


class Main(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SchemaTooNew as exc:  # from any command: one clear line and exit status 1
            raise click.ClickException(str(exc)) from None


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """议事厅 Yishiting: a residents' committee's WeChat Official Account back end."""


main.add_command(serve.init)
main.add_command(serve.serve)
main.add_command(simulate.simulate)
main.add_command(classify.classify)
main.add_command(rules.rules)
main.add_command(model.model)
main.add_command(tickets.tickets)
tickets.tickets.add_command(tickets_file.file_ticket)
main.add_command(community.community)
main.add_command(people.places)
main.add_command(people.residents)
main.add_command(staff.staff)
staff.staff.add_command(staff_remove.remove)
main.add_command(report.report)
main.add_command(delivery.worker)
main.add_command(delivery.scheduler)
main.add_command(delivery.outbox)
main.add_command(delivery.notify)
main.add_command(fake.fake_wechat)
main.add_command(polls.poll)
main.add_command(agenda.agenda)
publicity.register(agenda.agenda, polls.poll)
agenda_carrying.register(agenda.agenda)
agenda.agenda.add_command(agenda_report.report)
main.add_command(meetings.meeting)
main.add_command(reps.people)
main.add_command(admin.admin)
main.add_command(inbound.inbound)
main.add_command(backup.backup)
main.add_command(backup.restore)
main.add_command(status.status)
main.add_command(menu.menu)
main.add_command(check.check_config)
main.add_command(api_keys.api_key)
