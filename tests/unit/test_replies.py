import pytest
from revisit.domain.replies import Reply, classify


@pytest.mark.parametrize("text", ["STOP", "stop please", "Stop.", "unsubscribe", "BAJA", "baja por favor",
                                  "СТОП", "стоп!", "Отписване", "отписаться", "Хватит",
                                  "no más", "NO MAS", "No mas", "no más por favor", "No más, gracias", "ALTO",
                                  "CANCEL", "END", "QUIT", "UNSUBSCRIBE", "opt out", "no more", "ОТПИСКА",
                                  "ОТПИСАТЬСЯ", "не пишите", "Больше не пишите!", "Не пишете ми"])
def test_stop_in_four_languages(text):
    assert classify(text) == Reply.STOP


@pytest.mark.parametrize("text", ["STOPALL", "stopall", "Stop all", "STOP ALL please", "stop everything",
                                  "Baja total", "BAJA TODO", "стоп всичко", "СТОП ВСЁ", "стоп все"])
def test_stop_all_in_four_languages(text):
    """STOPALL withdraws SMS and email consent (services/replies.py), STOP only SMS."""
    assert classify(text) == Reply.STOP_ALL


@pytest.mark.parametrize("text", ["UNSTOP", "unstop", "Start please"])
def test_unstop_and_polite_start(text):
    assert classify(text) == Reply.START


@pytest.mark.parametrize("text", ["C", "c", "Yes", "YES!", "1", "Sí", "si", "confirmo", "ДА", "да", "Д",
                                  "потвърждавам", "идвам", "Да, идвам", "подтверждаю", "ok thanks"])
def test_confirm_in_four_languages(text):
    assert classify(text) == Reply.CONFIRM


@pytest.mark.parametrize("text", ["START", "start", "Alta", "СТАРТ"])
def test_start(text):
    assert classify(text) == Reply.START


@pytest.mark.parametrize("text", ["", "Can I come at 5 instead of 10?", "who is this", "yes but later please ok",
                                  "не знаю", "¿Puedo cambiar la cita?", "thanks"])
def test_anything_else_goes_to_a_person(text):
    assert classify(text) == Reply.OTHER


@pytest.mark.parametrize("text", ["Да, приду", "да, подтверждаю", "Sí, confirmo", "Sí, allí estaré", "Yes, I will come",
                                  "Да, ще дойда"])
def test_a_whole_yes_confirms(text):
    assert classify(text) == Reply.CONFIRM


@pytest.mark.parametrize("text", ["N", "no", "НЕТ", "не", "No, I can't come", "No puedo", "Нет, не смогу", "Не мога"])
def test_a_no_declines_the_appointment(text):
    assert classify(text) == Reply.DECLINE


@pytest.mark.parametrize("text", ["не ми пишете", "Спрете", "REVOKE", "remove me please", "мне не пишите"])
def test_more_ways_to_say_stop(text):
    assert classify(text) == Reply.STOP
