"""Tips to subscribed parents: message rules, durable queue, engine, compose, weekly tip."""
