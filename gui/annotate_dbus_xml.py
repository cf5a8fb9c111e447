#!/usr/bin/env python3
# Adds QtDBus's type annotations to an interface of data/ on its way to
# qdbusxml2cpp, so that data/ stays the one description of the interface
# and carries no toolkit's names.
import sys
import xml.etree.ElementTree as ET

QT_TYPES = {"a{sv}": "QVariantMap", "aa{sv}": "QList<QVariantMap>"}


def annotate(member, is_signal):
    counters = {"in": 0, "out": 0}
    for arg in member.findall("arg"):
        direction = arg.get("direction", "out" if is_signal else "in")
        index = counters[direction]
        counters[direction] += 1
        qt_type = QT_TYPES.get(arg.get("type"))
        if not qt_type:
            continue
        # Signals' arguments are "Out" in Qt 5's spelling, "In" in Qt 6's.
        kinds = ["In", "Out"] if is_signal else ["In" if direction == "in" else "Out"]
        for kind in kinds:
            ET.SubElement(member, "annotation",
                          name=f"org.qtproject.QtDBus.QtTypeName.{kind}{index}", value=qt_type)


def main():
    source, target = sys.argv[1], sys.argv[2]
    tree = ET.parse(source)
    for interface in tree.getroot().findall("interface"):
        for method in interface.findall("method"):
            annotate(method, False)
        for signal in interface.findall("signal"):
            annotate(signal, True)
    tree.write(target, encoding="unicode")


main()
