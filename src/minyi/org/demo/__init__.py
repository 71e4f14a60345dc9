"""Demo data: a Shenzhen-like organisation, demo logins and a realistic ticket history.

`minyi demo` (org/management/commands/demo.py) calls `loader.load_organisation`,
`loader.load_users` and `history.load_tickets`. The data modules hold plain literals:

- `regions`: the ten districts of Shenzhen with their streets, places and population;
- `units`: the 12345 centre, city bureaus and public service enterprises;
- `categories`: the category tree with each leaf's usual request type and unit;
- `people`: the demo logins and the name pools for generated requesters;
- `templates`: ticket texts, replies and direct answers, by category.
"""
