"""A tiny hand-made inputs folder with one instance of every rejection the ingest must handle."""

from __future__ import annotations

from pathlib import Path

CONFIG = """\
company:
  name: Tiny GmbH
  timezone: Europe/Berlin
program:
  start: 2025-01-01
privacy:
  min_group_size: 2
survey:
  items:
    "I am satisfied with how AI tools are introduced here": {construct: satisfaction}
    "AI tools make my work harder": {construct: satisfaction, reverse: true}
    "I get the support I need to use AI tools": {construct: support}
columns:
  employees: {Personalnummer: employee_id}
quality:
  # files of 2-7 rows holding one of every rejection: a third of a file's rows is quarantined
  max_quarantined_share: 0.5
"""

EMPLOYEES = """\
Personalnummer,email,github_login,department,target_group,hire_date,exit_date,fte,hourly_cost_eur
E001,anna.berg@tiny.example,annab,Engineering,champion,2020-01-01,,1,70
E002,Ben.Cole@tiny.example,,Sales,user,2021-05-01,,0.5,
E003,cara.diaz@tiny.example,carad,Engineering,user,2025-02-15,,1,60
E004,dan.ek@tiny.example,,Sales,manager,2019-01-01,2025-02-28,1,90
E004,dup.person@tiny.example,,Sales,user,2019-01-01,,1,50
E006,eve.fox@tiny.example,,Sales,boss,2019-01-01,,1,50
E007,fay.gul@tiny.example,,Sales,user,not-a-date,,1,50
"""

TRAININGS = """\
employee_id,course_id,format,started_on,completed_on,status,hours
E001,TTT-1,train_the_trainer,2025-01-10,2025-01-11,completed,16
E002,BASICS-1,basics_workshop,2025-02-03,2025-02-03,completed,4
E002,BASICS-1,basics_workshop,2025-02-03,2025-02-03,completed,4
E999,BASICS-1,basics_workshop,2025-02-03,,enrolled,4
"""

ASSESSMENTS = """\
employee_id,assessed_on,instrument,score,max_score
E001,2025-01-05,ai_literacy,55,100
E001,2025-03-01,ai_literacy,120,100
"""

COSTS = """\
booked_on;category;amount_eur;description
2024-12-20;external_training;1000,50;trainer deposit
2025-01-31;licenses;-200;credit note
2025-02-31;licenses;300;bad date
"""

PROCESS = """\
month,process,department,cases,handling_minutes,errors,csat
2024-12,quote_preparation,Sales,10,600,2,
2025-02,quote_preparation,Sales,12,600,1,
2025-03,quote_preparation,Sales,-1,600,1,
"""

# Canonical pre-aggregated usage: matched, a repeat inside the file, before hire, after exit,
# a contractor, a bad date, and a UTC timestamp that is already the next quarter in Berlin.
USAGE = """\
event_time,user,tool,action,interactions,successes,failures
2025-02-03,ANNA.BERG@tiny.example,chat-gateway,chat,5,4,1
2025-02-03,anna.berg@tiny.example,chat-gateway,chat,5,4,1
2025-02-10,E003,chat-gateway,chat,2,,
2025-03-05,dan.ek@tiny.example,chat-gateway,chat,1,1,0
2025-03-05,contractor@ext.example,chat-gateway,chat,3,,
2025-13-01,E001,chat-gateway,chat,1,,
2025-03-31T23:30:00Z,E001,chat-gateway,chat,2,2,0
"""

SURVEY = """\
response_id,submitted_at,department,target_group,I am satisfied with how AI tools are introduced here,\
AI tools make my work harder,I get the support I need to use AI tools,Comments
r1,2025-03-20T10:00:00,Sales,user,Agree,Strongly disagree,,I like it (contact me: ben.cole@tiny.example)
r2,2025-03-21T11:00:00,Engineering,user,Strongly agree.,Disagree,Maybe,
r3,2025-03-22T11:00:00,Engineering,champion,7,2,4,
r1,2025-03-23T11:00:00,Sales,user,Agree,Agree,Agree,
"""


def write_tiny_inputs(root: Path) -> Path:
    files = {
        "config.yaml": CONFIG,
        "hr/employees.csv": EMPLOYEES,
        "hr/trainings.csv": TRAININGS,
        "hr/assessments.csv": ASSESSMENTS,
        "finance/costs.csv": COSTS,
        "business/process_metrics.csv": PROCESS,
        "usage/gateway.csv": USAGE,
        "surveys/pulse-2025-Q1.csv": SURVEY,
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


IDENTIFIERS = {
    "E001", "E002", "E003", "E004", "E006", "E007", "E999",
    "anna.berg@tiny.example", "ben.cole@tiny.example", "cara.diaz@tiny.example", "dan.ek@tiny.example",
    "dup.person@tiny.example", "eve.fox@tiny.example", "fay.gul@tiny.example", "contractor@ext.example",
    "annab", "carad",
}
