"""The evaluation clock, without Telegram or a database: rules, due dates, reminders, dates.

`timelines` loads the rules and their words from content/; `due` counts the days and plans
the reminders; `school_days` knows weekends and US federal holidays; `typed_dates` reads a
date a parent types; `month_grid` is the inline calendar's month as plain data.
"""
