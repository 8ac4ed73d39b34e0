"""Statistics for the book dates filled by 0002 and 0003, at once.

The dashboard's reads of `workspace_bookdate` are planned from its statistics (decisions 164,
176). Filled in one transaction from empty, the table has none until autovacuum's next analyze,
and until then the planner took a bitmap heap scan of about 500 buffers for a read of 8. ANALYZE
reads a sample of the table; it runs inside the migration's transaction.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("workspace", "0003_book_interactions")]

    operations = [migrations.RunSQL("ANALYZE workspace_bookdate", migrations.RunSQL.noop)]
