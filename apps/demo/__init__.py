"""Demo data: branches, staff in every role, a product catalog and a realistic customer book.

`seed_demo` first builds a plan in memory from a fixed random seed (so every run plans the
same people, products and holdings), then writes what is missing through the real services
with actor=None (the system), so encryption, blind indexes, object permissions and the
audit trail are exactly what production writes. Each customer is written with everything
that hangs off them (documents, consents, holdings, links, tasks) in one transaction, so an
interrupted run resumes where it stopped and a repeated run finds everything and writes
nothing. Demo rows are recognised by their external ids (prefix DEMO-), product codes and
usernames. The data is documented in docs/demo.md.
"""
