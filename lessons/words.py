"""The lesson pages' own words (headings, labels, sentences) in the languages the lessons are
written in; English is the key. The board's buttons that lesson texts name (Apply, Copy)
keep their English labels, so a hint's "press Apply" always matches the page."""

WORDS = {
    "ko": {
        "Lessons": "레슨",
        "All lessons": "모든 레슨",
        "Lesson {n}": "레슨 {n}",
        "{n} of 10": "10개 중 {n}번째",
        "{done} of {total}": "{done}/{total}",
        "steps": "단계",
        "Steps done": "마친 단계",
        "What this is about": "무엇을 배우나요",
        "Steps": "단계",
        "Hint": "힌트",
        "Manifests": "매니페스트",
        "applied at start": "시작할 때 적용됨",
        "What went wrong:": "무엇이 잘못되었나요:",
        "Lesson complete.": "레슨 완료!",
        "Every step is done.": "모든 단계를 마쳤습니다.",
        "Next:": "다음:",
        "Reset the lesson": "레슨 다시 시작",
        "Delete everything in this lesson's cluster and start the steps again":
            "이 레슨의 클러스터를 모두 지우고 단계를 처음부터 다시 합니다",
        "Start the lesson": "레슨 시작",
        "{steps} steps, in a fresh cluster of {nodes} nodes.":
            "노드 {nodes}개짜리 새 클러스터에서 {steps}단계로 진행합니다.",
        "{steps} steps, in a fresh cluster of {nodes} nodes with the clock at x{speed}.":
            "노드 {nodes}개짜리 새 클러스터에서, 시계를 x{speed}로 두고 {steps}단계로 진행합니다.",
        "not started": "시작 전",
        "done": "완료",
        "done: ": "완료: ",
        "current: ": "현재 단계: ",
        "to do: ": "남은 단계: ",
        "Reset the lesson?": "레슨을 다시 시작할까요?",
        "Reset": "다시 시작",
        "Everything in this lesson's cluster is deleted, its nodes come back fresh, and the steps start again.":
            "이 레슨의 클러스터에 있는 모든 것이 지워지고, 노드가 새로 준비되며, 단계가 처음부터 다시 시작됩니다.",
    },
}

# What lesson.js says, looked up once per page.
SCRIPT_WORDS = ("done: ", "current: ", "to do: ", "{done} of {total}", "Reset the lesson?", "Reset",
                "Everything in this lesson's cluster is deleted, its nodes come back fresh, and "
                "the steps start again.")


def say(text, language, **values):
    """`text` in `language` where it is translated, else as written; {names} filled in."""
    said = WORDS.get(language, {}).get(text, text)
    return said.format(**values) if values else said


def script_words(language):
    return {text: say(text, language) for text in SCRIPT_WORDS}
