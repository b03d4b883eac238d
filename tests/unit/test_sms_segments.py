from revisit.domain.sms import sms_segments


def test_gsm7_fits_160_in_one_segment_then_153_per_part():
    assert sms_segments("a" * 160).segments == 1
    assert sms_segments("a" * 161).segments == 2
    assert sms_segments("a" * 306).segments == 2
    assert sms_segments("a" * 307).segments == 3
    assert sms_segments("a" * 160).encoding == "GSM-7"


def test_extension_characters_cost_two():
    assert sms_segments("€" * 80).units == 160
    assert sms_segments("€" * 81).segments == 2


def test_one_cyrillic_letter_makes_the_whole_text_ucs2():
    text = "a" * 69 + "Ж"
    assert sms_segments(text).encoding == "UCS-2"
    assert sms_segments(text).segments == 1
    assert sms_segments(text + "b").segments == 2  # 71 > 70: parts of 67
    assert sms_segments("Ж" * 134).segments == 2
    assert sms_segments("Ж" * 135).segments == 3


def test_spanish_accents_outside_gsm7_force_ucs2_but_n_tilde_does_not():
    assert sms_segments("España").encoding == "GSM-7"
    assert sms_segments("revisión").encoding == "UCS-2"


def test_spanish_accents_fold_to_gsm7_so_the_sms_costs_fewer_segments():
    from revisit.domain.sms import fold_to_gsm7
    from revisit.rendering import render, render_sms

    context = {"first_name": "José María", "clinic_name": "Sonrisa Círculo Madrid", "clinic_phone": "+34910000000",
               "due_for": "revisión y limpieza + radiografías de aleta", "due_date": __import__("datetime").date(2026, 11, 30),
               "last_name": "Núñez", "clinic_address": "", "suggested_date": __import__("datetime").date(2026, 12, 1),
               "overdue": False, "rebook": False, "booking_url": None}
    plain = render("es", "recall_sms.txt", **context)
    folded = render_sms("es", "recall_sms.txt", **context)
    assert (sms_segments(plain).encoding, sms_segments(plain).segments) == ("UCS-2", 3)
    assert (sms_segments(folded).encoding, sms_segments(folded).segments) == ("GSM-7", 1)
    assert "José Maria" in folded and "radiografias" in folded  # é and ñ are GSM-7 already; á, í, ó, ú fold
    assert fold_to_gsm7("“¿Vale?” – sí…") == '"¿Vale?" - si...'
    assert fold_to_gsm7("Здравейте") == "Здравейте"  # Cyrillic has no look-alike: left as it is
    assert render_sms("es", "recall_sms.txt", False, **context) == plain  # the tenant may turn folding off


def test_names_from_anywhere_in_the_latin_alphabet_fold_too():
    from revisit.domain.sms import fold_to_gsm7
    for name, folded in (("Łukasz Wiśniewski", "Lukasz Wisniewski"), ("Nguyễn Thị Minh", "Nguyen Thi Minh"),
                         ("Şerban Ţiriac", "Serban Tiriac")):
        assert fold_to_gsm7(name) == folded and sms_segments(fold_to_gsm7(name)).encoding == "GSM-7"
    assert fold_to_gsm7("Ёлка") == "Ёлка"  # Cyrillic stays as it is
