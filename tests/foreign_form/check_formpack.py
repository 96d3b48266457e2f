"""Re-check the Kobo shapes against formpack itself (KoboToolbox's exporter); run by hand, not by pytest.

formpack is not a dependency of lqas. To run this check, install it into a throw-away environment (from a
checkout of github.com/kobotoolbox/formpack, plus ``python-dateutil``), then, from the repository root::

    python -m tests.foreign_form.check_formpack OUT_DIR

It rebuilds the fixture into OUT_DIR, feeds the same submissions, as the JSON kpi stores, to formpack's
``Export`` with the options kpi's export task passes, and compares: the four Kobo CSVs byte for byte, the
XLSX cell by cell (values and number formats). It prints one line per file and exits 1 on any difference.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from . import build as fixture


def _content(flat: bool) -> dict:
    """The form as kpi stores an imported XLSForm (formpack expands the ``label::`` columns itself)."""
    survey = []
    for row in fixture.survey_rows(flat):
        kind, _, list_name = row["type"].partition(" ")
        item = {"type": kind}
        if row["name"]:
            item["name"] = row["name"]
        if list_name:
            item["select_from_list_name"] = list_name
        for lang, key in ((fixture.FR, "fr"), (fixture.EN, "en")):
            if row[key]:
                item[f"label::{lang}"] = row[key]
        survey.append(item)
    choices = [{"list_name": list_name, "name": name, f"label::{fixture.FR}": fr, f"label::{fixture.EN}": en}
               for list_name, options in fixture.CHOICES.items() for name, fr, en in options]
    return {"survey": survey, "choices": choices}


def _stored(sub: fixture.Submission) -> dict:
    """A submission as kpi hands it to formpack: answered questions only, plus kpi's own keys."""
    data = {key: value for key, value in sub.answers.items() if value is not None}
    if sub.children:
        data["enfant"] = [{k: v for k, v in child.items() if v is not None} for child in sub.children]
    validation = {"uid": sub.kobo_validation[0], "label": sub.kobo_validation[1]} if sub.kobo_validation else {}
    data.update({"_id": sub.kobo_id, "_uuid": sub.instance,
                 "_submission_time": sub.submitted.strftime("%Y-%m-%dT%H:%M:%S"), "_validation_status": validation,
                 "_notes": [], "_status": "submitted_via_web", "_submitted_by": sub.kobo_user,
                 "__version__": sub.kobo_version, "_tags": list(sub.kobo_tags),
                 "meta/rootUuid": f"uuid:{sub.instance}"})
    return data


def main(out_dir: Path, seed: int = 7, n_households: int = 120) -> int:
    from formpack import FormPack
    from formpack.schema.fields import (
        IdCopyField,
        NotesCopyField,
        SubmissionTimeCopyField,
        TagsCopyField,
        ValidationStatusCopyField,
    )
    from openpyxl import load_workbook

    # kpi/models/import_export_task.py, SubmissionExportTaskBase.COPY_FIELDS
    copy_fields = (IdCopyField, "_uuid", SubmissionTimeCopyField, ValidationStatusCopyField, NotesCopyField,
                   "_status", "_submitted_by", "__version__", TagsCopyField, "meta/rootUuid")
    files = fixture.build(out_dir, seed, n_households)
    rng = random.Random(seed)  # the same draws as build(), in the same order
    households = fixture.simulate(rng, n_households)
    flat = fixture.submissions_for(rng, households, flat=True)
    repeat = fixture.submissions_for(rng, households, flat=False)

    def export(is_flat: bool, **options):
        pack = FormPack([{"content": _content(is_flat), "version": fixture.KOBO_VERSION_FLAT if is_flat
                          else fixture.KOBO_VERSION, "version_id_key": "__version__"}],
                        title=fixture.FORM_TITLE_FLAT if is_flat else fixture.FORM_TITLE)
        settings = {"versions": pack.versions.keys(), "group_sep": "/", "multiple_select": "both",
                    "hierarchy_in_labels": False, "copy_fields": copy_fields, "force_index": True,
                    "tag_cols_for_header": ["hxl"], "filter_fields": [], "xls_types_as_text": True,
                    "include_media_url": True, **options}
        return pack.export(**settings)

    failures = 0
    for key, options in (("kobo_labels", {"lang": fixture.FR}),
                         ("kobo_xml", {"lang": False, "hierarchy_in_labels": True}),
                         ("kobo_xml_dash", {"lang": False, "hierarchy_in_labels": True, "group_sep": "-"}),
                         ("kobo_xml_dot", {"lang": False, "hierarchy_in_labels": True, "group_sep": "."})):
        lines = export(True, **options).to_csv([_stored(s) for s in flat])
        same = "".join(line + "\r\n" for line in lines).encode("utf-8") == files[key].read_bytes()
        failures += not same
        print(f"{files[key].name}: {'identical' if same else 'DIFFERENT'}")
    reference = Path(out_dir) / "formpack_reference.xlsx"
    export(False, lang=fixture.FR, xls_types_as_text=False).to_xlsx(str(reference), [_stored(s) for s in repeat])
    theirs, ours = load_workbook(reference), load_workbook(files["kobo_labels_xlsx"])
    same = theirs.sheetnames == ours.sheetnames and all(
        [(c.value, c.number_format) for r in a.iter_rows() for c in r]
        == [(c.value, c.number_format) for r in b.iter_rows() for c in r]
        for a, b in zip(theirs.worksheets, ours.worksheets))
    failures += not same
    print(f"{files['kobo_labels_xlsx'].name}: {'identical' if same else 'DIFFERENT'} (sheets {ours.sheetnames})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "foreign_form_check")))
