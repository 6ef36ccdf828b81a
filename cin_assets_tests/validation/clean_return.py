"""A small, hand-built 2019-20 return that passes every rule, and one fault per rule to break it.

The clean return holds eight children chosen so every module and every rule has something to look at:
closed and open episodes, an NFA referral, an unborn child, a child who died, a transfer-in (episode-level)
conference, open and authorised assessments, open and concluded S47 enquiries, open and ended plans with
reviews, enough disability codes for the return-level queries. Each fault edits the XML of one child (or the
header) and names the findings it must produce: normally just its own rule, and where the rules cannot be
separated (two open CPPs always overlap, say) the companion rules too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from cin_assets.census.codes import check_letter


def upn(tail: str) -> str:
    """A UPN with a correct check letter for characters 2-13 ``tail``."""
    return check_letter(tail) + tail


UPN1, UPN4, UPN5, UPN7, UPN8 = (upn(f"8451234100{n:02d}") for n in (1, 2, 3, 4, 5))
FORMER7 = upn("845123409999")

CLEAN_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Header>
    <CollectionDetails><Collection>CIN</Collection><Year>2020</Year><ReferenceDate>2020-03-31</ReferenceDate>
    </CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>845</LEA><SoftwareCode>Test</SoftwareCode><Release>1</Release>
      <SerialNo>001</SerialNo><DateTime>2020-05-14T09:30:00</DateTime></Source>
    <Content><CBDSLevels><CBDSLevel>Child</CBDSLevel></CBDSLevels></Content>
  </Header>
  <Children>
    <Child>
      <ChildIdentifiers><LAchildID>C001</LAchildID><UPN>{UPN1}</UPN><PersonBirthDate>2010-05-01</PersonBirthDate>
        <GenderCurrent>1</GenderCurrent></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>WBRI</Ethnicity>
        <Disabilities><Disability>HAND</Disability><Disability>HEAR</Disability></Disabilities></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2019-05-01</CINreferralDate><ReferralSource>1A</ReferralSource>
        <PrimaryNeedCode>N1</PrimaryNeedCode><CINclosureDate>2019-12-20</CINclosureDate>
        <ReasonForClosure>RC4</ReasonForClosure>
        <Assessments><AssessmentActualStartDate>2019-05-02</AssessmentActualStartDate>
          <AssessmentAuthorisationDate>2019-05-20</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment><AssessmentFactors>3B</AssessmentFactors>
            <AssessmentFactors>6A</AssessmentFactors></FactorsIdentifiedAtAssessment></Assessments>
        <Section47><S47ActualStartDate>2019-05-03</S47ActualStartDate><InitialCPCtarget>2019-05-17</InitialCPCtarget>
          <DateOfInitialCPC>2019-05-17</DateOfInitialCPC><ICPCnotRequired>false</ICPCnotRequired></Section47>
        <ReferralNFA>false</ReferralNFA>
        <ChildProtectionPlans><CPPstartDate>2019-05-17</CPPstartDate><CPPendDate>2019-11-15</CPPendDate>
          <InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse><LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>
          <NumberOfPreviousCPP>0</NumberOfPreviousCPP>
          <Reviews><CPPreviewDate>2019-08-16</CPPreviewDate></Reviews></ChildProtectionPlans>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C002</LAchildID><UPNunknown>UN3</UPNunknown>
        <PersonBirthDate>2012-02-10</PersonBirthDate><GenderCurrent>2</GenderCurrent></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>AIND</Ethnicity>
        <Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2019-04-15</CINreferralDate><ReferralSource>9</ReferralSource>
        <CINclosureDate>2019-04-15</CINclosureDate><ReasonForClosure>RC7</ReasonForClosure>
        <ReferralNFA>true</ReferralNFA>
      </CINdetails>
      <CINdetails>
        <CINreferralDate>2019-06-03</CINreferralDate><ReferralSource>2A</ReferralSource>
        <PrimaryNeedCode>N4</PrimaryNeedCode>
        <Assessments><AssessmentActualStartDate>2019-06-04</AssessmentActualStartDate>
          <AssessmentAuthorisationDate>2019-07-10</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment><AssessmentFactors>1B</AssessmentFactors>
            <AssessmentFactors>2B</AssessmentFactors></FactorsIdentifiedAtAssessment></Assessments>
        <Assessments><AssessmentActualStartDate>2020-03-10</AssessmentActualStartDate></Assessments>
        <ReferralNFA>false</ReferralNFA>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C003</LAchildID><UPNunknown>UN1</UPNunknown>
        <ExpectedPersonBirthDate>2020-06-15</ExpectedPersonBirthDate><GenderCurrent>0</GenderCurrent>
      </ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>NOBT</Ethnicity></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2020-01-10</CINreferralDate><ReferralSource>3B</ReferralSource>
        <PrimaryNeedCode>N1</PrimaryNeedCode>
        <Assessments><AssessmentActualStartDate>2020-01-13</AssessmentActualStartDate>
          <AssessmentAuthorisationDate>2020-02-20</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment><AssessmentFactors>16A</AssessmentFactors>
          </FactorsIdentifiedAtAssessment></Assessments>
        <Section47><S47ActualStartDate>2020-03-25</S47ActualStartDate><InitialCPCtarget>2020-04-08</InitialCPCtarget>
          <ICPCnotRequired>false</ICPCnotRequired></Section47>
        <ReferralNFA>false</ReferralNFA>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C004</LAchildID><UPN>{UPN4}</UPN><PersonBirthDate>2005-09-09</PersonBirthDate>
        <GenderCurrent>1</GenderCurrent></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>WOTH</Ethnicity>
        <Disabilities><Disability>MOB</Disability><Disability>PC</Disability><Disability>INC</Disability>
          <Disability>COMM</Disability></Disabilities></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2018-06-01</CINreferralDate><ReferralSource>6</ReferralSource>
        <PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>false</ReferralNFA>
        <ChildProtectionPlans><CPPstartDate>2018-07-10</CPPstartDate>
          <InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse><LatestCategoryOfAbuse>EMO</LatestCategoryOfAbuse>
          <NumberOfPreviousCPP>1</NumberOfPreviousCPP>
          <Reviews><CPPreviewDate>2019-07-10</CPPreviewDate><CPPreviewDate>2020-01-10</CPPreviewDate></Reviews>
        </ChildProtectionPlans>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C005</LAchildID><UPN>{UPN5}</UPN><PersonBirthDate>2001-01-20</PersonBirthDate>
        <GenderCurrent>2</GenderCurrent></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>BAFR</Ethnicity>
        <Disabilities><Disability>LD</Disability><Disability>VIS</Disability><Disability>BEH</Disability>
        </Disabilities></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2019-09-02</CINreferralDate><ReferralSource>5A</ReferralSource>
        <PrimaryNeedCode>N2</PrimaryNeedCode><CINclosureDate>2019-10-25</CINclosureDate>
        <ReasonForClosure>RC8</ReasonForClosure>
        <Assessments><AssessmentActualStartDate>2019-09-03</AssessmentActualStartDate>
          <AssessmentAuthorisationDate>2019-10-25</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment><AssessmentFactors>5A</AssessmentFactors>
          </FactorsIdentifiedAtAssessment></Assessments>
        <ReferralNFA>false</ReferralNFA>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C006</LAchildID><UPNunknown>UN1</UPNunknown>
        <PersonBirthDate>2015-11-30</PersonBirthDate><GenderCurrent>1</GenderCurrent>
        <PersonDeathDate>2020-02-01</PersonDeathDate></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>MWBC</Ethnicity>
        <Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2019-07-01</CINreferralDate><ReferralSource>3E</ReferralSource>
        <PrimaryNeedCode>N3</PrimaryNeedCode><CINclosureDate>2020-02-01</CINclosureDate>
        <ReasonForClosure>RC2</ReasonForClosure><DateOfInitialCPC>2019-07-05</DateOfInitialCPC>
        <ReferralNFA>false</ReferralNFA>
        <ChildProtectionPlans><CPPstartDate>2019-07-05</CPPstartDate><CPPendDate>2020-02-01</CPPendDate>
          <InitialCategoryOfAbuse>PHY</InitialCategoryOfAbuse><LatestCategoryOfAbuse>PHY</LatestCategoryOfAbuse>
          <NumberOfPreviousCPP>0</NumberOfPreviousCPP>
          <Reviews><CPPreviewDate>2019-09-05</CPPreviewDate></Reviews></ChildProtectionPlans>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C007</LAchildID><UPN>{UPN7}</UPN><FormerUPN>{FORMER7}</FormerUPN>
        <PersonBirthDate>2008-03-03</PersonBirthDate><GenderCurrent>2</GenderCurrent></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>WBRI</Ethnicity>
        <Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2019-11-04</CINreferralDate><ReferralSource>1C</ReferralSource>
        <PrimaryNeedCode>N5</PrimaryNeedCode><CINclosureDate>2020-01-31</CINclosureDate>
        <ReasonForClosure>RC7</ReasonForClosure>
        <Assessments><AssessmentActualStartDate>2019-11-05</AssessmentActualStartDate>
          <AssessmentAuthorisationDate>2019-12-02</AssessmentAuthorisationDate>
          <FactorsIdentifiedAtAssessment><AssessmentFactors>3A</AssessmentFactors>
            <AssessmentFactors>3B</AssessmentFactors></FactorsIdentifiedAtAssessment></Assessments>
        <Section47><S47ActualStartDate>2019-11-05</S47ActualStartDate><ICPCnotRequired>true</ICPCnotRequired>
        </Section47>
        <ReferralNFA>false</ReferralNFA>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>C008</LAchildID><UPN>{UPN8}</UPN><PersonBirthDate>2003-07-07</PersonBirthDate>
        <GenderCurrent>1</GenderCurrent></ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>AOTH</Ethnicity>
        <Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>
      <CINdetails>
        <CINreferralDate>2019-08-08</CINreferralDate><ReferralSource>10</ReferralSource>
        <CINclosureDate>2019-08-08</CINclosureDate><ReasonForClosure>RC7</ReasonForClosure>
        <ReferralNFA>true</ReferralNFA>
      </CINdetails>
    </Child>
  </Children>
</Message>
"""


class Edit:
    """Edits to the clean return's XML, addressed by LAchildID and a path below the Child element."""

    def __init__(self) -> None:
        self.root = etree.fromstring(CLEAN_XML.encode())

    def child(self, child_id: str) -> etree._Element:
        return self.root.xpath(f"//Child[ChildIdentifiers/LAchildID='{child_id}']")[0]

    def _at(self, child_id: str, path: str) -> etree._Element:
        return self.child(child_id).xpath(path)[0]

    def set(self, child_id: str, path: str, value: str) -> Edit:
        """Set the text of ``path`` (created under its parent when absent)."""
        found = self.child(child_id).xpath(path)
        if found:
            found[0].text = value
        else:
            parent, _, tag = path.rpartition("/")
            etree.SubElement(self._at(child_id, parent) if parent else self.child(child_id), tag).text = value
        return self

    def remove(self, child_id: str, path: str) -> Edit:
        for node in self.child(child_id).xpath(path):
            node.getparent().remove(node)
        return self

    def add(self, child_id: str, parent: str, fragment: str) -> Edit:
        target = self._at(child_id, parent) if parent else self.child(child_id)
        target.append(etree.fromstring(fragment))
        return self

    def header(self, field: str, value: str) -> Edit:
        self.root.xpath(f"//Header//{field}")[0].text = value
        return self

    def clone(self, child_id: str, new_id: str) -> Edit:
        """Append a copy of a child under a new LAchildID."""
        twin = copy.deepcopy(self.child(child_id))
        twin.xpath("ChildIdentifiers/LAchildID")[0].text = new_id
        self.root.find("Children").append(twin)
        return self

    def xml(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class Fault:
    """One fault: the edit, the findings it must produce, and the child that must carry the rule's finding
    (None for header and return-level rules)."""

    rule: str
    edit: Callable[[Edit], object]
    child: str | None
    also: frozenset[str] = frozenset()

    @property
    def expected(self) -> frozenset[str]:
        return frozenset({self.rule, *self.also})


EP = "CINdetails[1]"
EP2 = "CINdetails[2]"
AS = "CINdetails/Assessments"
S47 = "CINdetails/Section47"
CPP = "CINdetails/ChildProtectionPlans"
CPP_XML = (
    "<ChildProtectionPlans><CPPstartDate>{start}</CPPstartDate>{end}<InitialCategoryOfAbuse>NEG"
    "</InitialCategoryOfAbuse><LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>"
    "<NumberOfPreviousCPP>0</NumberOfPreviousCPP></ChildProtectionPlans>"
)


def cpp(start: str, end: str | None = None) -> str:
    return CPP_XML.format(start=start, end=f"<CPPendDate>{end}</CPPendDate>" if end else "")


def _many_single_disabilities(e: Edit) -> None:
    """Every child with at most one disability, eight codes in all (so 2887Q still passes)."""
    for child_id, code in (
        ("C001", "HAND"),
        ("C004", "MOB"),
        ("C005", "LD"),
        ("C006", "PC"),
        ("C008", "COMM"),
    ):
        e.remove(child_id, "ChildCharacteristics/Disabilities/Disability")
        e.add(child_id, "ChildCharacteristics/Disabilities", f"<Disability>{code}</Disability>")
    for n, code in ((11, "VIS"), (12, "BEH"), (13, "AUT")):
        e.clone("C008", f"C0{n}")
        e.remove(f"C0{n}", "ChildIdentifiers/UPN").set(f"C0{n}", "ChildIdentifiers/UPNunknown", "UN7")
        e.set(f"C0{n}", "ChildCharacteristics/Disabilities/Disability", code)


def _born_c003(e: Edit, dob: str) -> Edit:
    """Turn the unborn child into a born one (gender and disability set so only the intended rule fires)."""
    e.remove("C003", "ChildIdentifiers/ExpectedPersonBirthDate").set(
        "C003", "ChildIdentifiers/PersonBirthDate", dob
    )
    e.set("C003", "ChildIdentifiers/GenderCurrent", "1")
    return e.add("C003", "ChildCharacteristics", "<Disabilities><Disability>NONE</Disability></Disabilities>")


FAULTS: tuple[Fault, ...] = (
    # return level
    Fault("100", lambda e: e.header("ReferenceDate", "2020-03-30"), None),
    Fault("2883", lambda e: e.remove("C006", f"{EP}/DateOfInitialCPC"), None, frozenset({"2885"})),
    Fault("2886Q", lambda e: e.set("C001", "ChildIdentifiers/GenderCurrent", "0"), None),
    Fault(
        "2887Q",
        lambda e: e.remove("C005", "ChildCharacteristics/Disabilities/Disability").add(
            "C005", "ChildCharacteristics/Disabilities", "<Disability>HAND</Disability>"
        ),
        None,
    ),
    Fault("2888Q", _many_single_disabilities, None),
    # children
    Fault("8500", lambda e: e.remove("C008", "ChildIdentifiers/LAchildID"), None),
    Fault(
        "8510",
        lambda e: (
            e.clone("C008", "C008")
            .remove("C008", "ChildIdentifiers/UPN")
            .remove("C008", "ChildCharacteristics/Disabilities")
        ),
        "C008",
    ),
    Fault("1510", lambda e: e.set("C001", "ChildIdentifiers/UPN", "Z" + UPN1[1:]), "C001"),
    Fault("1520", lambda e: e.set("C007", "ChildIdentifiers/UPN", UPN1), "C007"),
    Fault("1530", lambda e: e.set("C001", "ChildIdentifiers/UPN", upn("999123410001")), "C001"),
    Fault("1540", lambda e: e.set("C001", "ChildIdentifiers/UPN", UPN1[:6] + "X" + UPN1[7:]), "C001"),
    Fault("1550", lambda e: e.set("C001", "ChildIdentifiers/UPN", UPN1[:12] + "I"), "C001"),
    Fault("1560Q", lambda e: e.set("C007", "ChildIdentifiers/FormerUPN", "Z" + FORMER7[1:]), "C007"),
    Fault("8520", lambda e: _born_c003(e, "2020-04-02"), "C003"),
    Fault(
        "8525Q",
        lambda e: e.set("C003", "ChildIdentifiers/PersonBirthDate", "2020-03-01").add(
            "C003", "ChildCharacteristics", "<Disabilities><Disability>NONE</Disability></Disabilities>"
        ),
        "C003",
    ),
    Fault("8530Q", lambda e: e.set("C003", "ChildIdentifiers/ExpectedPersonBirthDate", "2020-02-15"), "C003"),
    Fault(
        "8535Q",
        lambda e: _born_c003(e, "2020-02-01").set("C003", "ChildIdentifiers/PersonDeathDate", "2020-01-20"),
        "C003",
    ),
    Fault("8545Q", lambda e: e.set("C006", "ChildIdentifiers/PersonDeathDate", "2020-04-10"), "C006"),
    Fault("4180", lambda e: e.set("C001", "ChildIdentifiers/GenderCurrent", "5"), "C001"),
    Fault("8750", lambda e: e.set("C003", "ChildIdentifiers/GenderCurrent", "1"), "C003"),
    Fault("4220", lambda e: e.set("C001", "ChildCharacteristics/Ethnicity", "XXXX"), "C001"),
    Fault("8540", lambda e: e.set("C002", "ChildCharacteristics/Disabilities/Disability", "WING"), "C002"),
    Fault(
        "8790",
        lambda e: e.add("C001", "ChildCharacteristics/Disabilities", "<Disability>NONE</Disability>"),
        "C001",
    ),
    Fault(
        "8794",
        lambda e: e.add("C001", "ChildCharacteristics/Disabilities", "<Disability>HAND</Disability>"),
        "C001",
    ),
    Fault("8590", lambda e: e.remove("C008", EP), "C008"),
    Fault("8770Q", lambda e: e.remove("C002", "ChildIdentifiers/UPNunknown"), "C002"),
    Fault("8772", lambda e: e.set("C002", "ChildIdentifiers/UPNunknown", "UN7"), "C002"),
    Fault("8775Q", lambda e: e.set("C005", "ChildIdentifiers/PersonBirthDate", "1994-01-20"), "C005"),
    # episodes
    Fault("8600", lambda e: e.remove("C008", f"{EP}/CINreferralDate"), "C008"),
    Fault("8606", lambda e: e.set("C003", f"{EP}/CINreferralDate", "2019-06-01"), "C003"),
    Fault("8555Q", lambda e: e.set("C008", "ChildIdentifiers/PersonDeathDate", "2019-06-01"), "C008"),
    Fault("8866", lambda e: e.set("C001", f"{EP}/ReferralSource", "99"), "C001"),
    Fault("8610", lambda e: e.remove("C002", f"{EP2}/PrimaryNeedCode"), "C002"),
    Fault("8650", lambda e: e.set("C002", f"{EP2}/PrimaryNeedCode", "N11"), "C002"),
    Fault("8620", lambda e: e.set("C007", f"{EP}/CINclosureDate", "2020-04-10"), "C007"),
    Fault("8630", lambda e: e.set("C008", f"{EP}/CINclosureDate", "2019-08-01"), "C008"),
    Fault("8640", lambda e: e.set("C007", f"{EP}/ReasonForClosure", "RC9"), "C007"),
    Fault("8805", lambda e: e.remove("C007", f"{EP}/ReasonForClosure"), "C007"),
    Fault("8810", lambda e: e.set("C002", f"{EP2}/ReasonForClosure", "RC7"), "C002"),
    Fault("8568", lambda e: e.remove("C007", f"{EP}/ReferralNFA"), "C007"),
    Fault("8569Q", lambda e: e.set("C002", f"{EP}/CINreferralDate", "2019-03-20"), "C002"),
    Fault("8585Q", lambda e: e.set("C007", f"{EP}/ReasonForClosure", "RC2"), "C007"),
    Fault("8565", lambda e: e.set("C007", f"{EP}/CINclosureDate", "2019-11-20"), "C007"),
    Fault(
        "8815",
        lambda e: (
            e.remove("C002", f"{EP}/CINclosureDate")
            .remove("C002", f"{EP}/ReasonForClosure")
            .set("C002", f"{EP}/ReferralNFA", "false")
            .set("C002", f"{EP}/PrimaryNeedCode", "N4")
        ),
        "C002",
        frozenset({"8816", "8820"}),
    ),
    Fault(
        "8816",
        lambda e: e.add(
            "C002",
            "",
            "<CINdetails><CINreferralDate>2019-09-02</CINreferralDate><ReferralSource>1A</ReferralSource>"
            "<CINclosureDate>2019-09-02</CINclosureDate><ReasonForClosure>RC7</ReasonForClosure>"
            "<ReferralNFA>true</ReferralNFA></CINdetails>",
        ),
        "C002",
        frozenset({"8820"}),
    ),
    Fault("8820", lambda e: e.set("C002", f"{EP}/CINclosureDate", "2019-06-10"), "C002"),
    # two records with one LAchildID: their episodes (both numbered 1 in their own record) still overlap
    Fault("8820", lambda e: e.set("C005", "ChildIdentifiers/LAchildID", "C001"), "C001", frozenset({"8510"})),
    Fault("8825Q", lambda e: e.remove("C005", AS), "C005"),
    Fault("8831", lambda e: e.set("C008", f"{EP}/DateOfInitialCPC", "2019-08-08"), "C008"),
    Fault(
        "8832",
        lambda e: (
            e.set("C008", f"{EP}/CINreferralDate", "2019-03-29")
            .remove("C008", f"{EP}/CINclosureDate")
            .remove("C008", f"{EP}/ReasonForClosure")
            .add("C008", EP, cpp("2019-03-29", "2019-06-01"))
        ),
        "C008",
    ),
    Fault(
        "8867",
        lambda e: e.add(
            "C007",
            EP,
            "<Assessments><AssessmentActualStartDate>2020-01-29</AssessmentActualStartDate></Assessments>",
        ),
        "C007",
    ),
    Fault("8868", lambda e: e.set("C007", f"{S47}/ICPCnotRequired", "false"), "C007", frozenset({"8675Q"})),
    Fault("2990", lambda e: e.set("C005", f"{EP}/DateOfInitialCPC", "2019-10-01"), "C005"),
    Fault("2991Q", lambda e: e.remove("C003", AS), "C003"),
    Fault(
        "8873Q",
        lambda e: e.remove("C007", f"{AS}/FactorsIdentifiedAtAssessment/AssessmentFactors").add(
            "C007", f"{AS}/FactorsIdentifiedAtAssessment", "<AssessmentFactors>21</AssessmentFactors>"
        ),
        "C007",
    ),
    # assessments
    Fault("1103", lambda e: e.set("C007", f"{AS}/AssessmentActualStartDate", "2019-11-01"), "C007"),
    Fault("8608", lambda e: e.set("C007", f"{AS}/AssessmentAuthorisationDate", "2019-11-04"), "C007"),
    Fault(
        "8670Q",
        lambda e: e.set("C002", f"{EP2}/Assessments[2]/AssessmentActualStartDate", "2019-12-02"),
        "C002",
    ),
    Fault("8696", lambda e: e.set("C003", f"{AS}/AssessmentAuthorisationDate", "2020-04-02"), "C003"),
    Fault(
        "8736",
        lambda e: (
            e.remove("C003", f"{AS}/AssessmentAuthorisationDate")
            .remove("C003", f"{AS}/FactorsIdentifiedAtAssessment")
            .set("C003", f"{AS}/AssessmentActualStartDate", "2020-04-05")
        ),
        "C003",
    ),
    Fault(
        "8614",
        lambda e: e.add(
            "C002",
            f"{EP2}/Assessments[2]",
            "<FactorsIdentifiedAtAssessment><AssessmentFactors>1A</AssessmentFactors></FactorsIdentifiedAtAssessment>",
        ),
        "C002",
    ),
    Fault(
        "8869",
        lambda e: e.add(
            "C002",
            f"{EP2}/Assessments[1]/FactorsIdentifiedAtAssessment",
            "<AssessmentFactors>21</AssessmentFactors>",
        ),
        "C002",
    ),
    Fault("8897Q", lambda e: e.remove("C007", f"{AS}/FactorsIdentifiedAtAssessment"), "C007"),
    Fault(
        "8617",
        lambda e: e.add(
            "C007", f"{AS}/FactorsIdentifiedAtAssessment", "<AssessmentFactors>8A</AssessmentFactors>"
        ),
        "C007",
    ),
    Fault("8899Q", lambda e: e.set("C007", "ChildCharacteristics/Disabilities/Disability", "LD"), "C007"),
    Fault(
        "8896",
        lambda e: e.add(
            "C002",
            EP2,
            "<Assessments><AssessmentActualStartDate>2020-03-12</AssessmentActualStartDate></Assessments>",
        ),
        "C002",
        frozenset({"8863Q"}),
    ),
    Fault(
        "8863Q",
        lambda e: e.set("C002", f"{EP2}/Assessments[1]/AssessmentAuthorisationDate", "2020-03-15"),
        "C002",
    ),
    Fault(
        "8898",
        lambda e: e.add(
            "C001", f"{AS}/FactorsIdentifiedAtAssessment", "<AssessmentFactors>3B</AssessmentFactors>"
        ),
        "C001",
    ),
    # section 47
    Fault(
        "1104",
        lambda e: e.set("C007", f"{S47}/S47ActualStartDate", "2019-10-30").set(
            "C007", f"{S47}/DateOfInitialCPC", "2019-10-31"
        ),
        "C007",
        frozenset({"2889"}),
    ),
    Fault("2889", lambda e: e.set("C007", f"{S47}/S47ActualStartDate", "2019-11-01"), "C007"),
    Fault("2884", lambda e: e.set("C001", f"{EP}/DateOfInitialCPC", "2019-05-17"), "C001"),
    Fault(
        "8615",
        lambda e: e.set("C007", f"{S47}/DateOfInitialCPC", "2019-11-08").set(
            "C007", f"{S47}/S47ActualStartDate", "2019-11-12"
        ),
        "C007",
    ),
    Fault(
        "8715",
        lambda e: e.add(
            "C004",
            EP,
            "<Assessments><AssessmentActualStartDate>2019-04-02</AssessmentActualStartDate><AssessmentAuthorisationDate>"
            "2019-04-20</AssessmentAuthorisationDate><FactorsIdentifiedAtAssessment><AssessmentFactors>6A"
            "</AssessmentFactors></FactorsIdentifiedAtAssessment></Assessments>",
        ).add(
            "C004",
            EP,
            "<Section47><S47ActualStartDate>2019-03-25</S47ActualStartDate><DateOfInitialCPC>2019-03-29"
            "</DateOfInitialCPC><ICPCnotRequired>false</ICPCnotRequired></Section47>",
        ),
        "C004",
    ),
    Fault("8740", lambda e: e.set("C003", f"{S47}/S47ActualStartDate", "2020-04-02"), "C003"),
    Fault("8675Q", lambda e: e.set("C003", f"{S47}/S47ActualStartDate", "2020-02-03"), "C003"),
    Fault("8870Q", lambda e: e.set("C001", f"{S47}/InitialCPCtarget", "2019-05-18"), "C001"),
    Fault(
        "8875",
        lambda e: e.set("C001", f"{S47}/DateOfInitialCPC", "2019-05-18").set(
            "C001", f"{CPP}/CPPstartDate", "2019-05-18"
        ),
        "C001",
    ),
    Fault(
        "8839",
        lambda e: e.add(
            "C003",
            EP,
            "<Section47><S47ActualStartDate>2020-03-26</S47ActualStartDate><ICPCnotRequired>false</ICPCnotRequired>"
            "</Section47>",
        ),
        "C003",
        frozenset({"8890"}),
    ),
    Fault(
        "8890",
        lambda e: e.add(
            "C001",
            EP,
            "<Section47><S47ActualStartDate>2019-05-10</S47ActualStartDate><ICPCnotRequired>true</ICPCnotRequired>"
            "</Section47>",
        ),
        "C001",
    ),
    # child protection plans
    Fault(
        "1105",
        lambda e: e.set("C006", f"{EP}/DateOfInitialCPC", "2019-06-28").set(
            "C006", f"{CPP}/CPPstartDate", "2019-06-28"
        ),
        "C006",
    ),
    Fault("2885", lambda e: e.set("C006", f"{CPP}/CPPstartDate", "2019-07-08"), "C006"),
    Fault("8720", lambda e: e.remove("C004", f"{CPP}/CPPstartDate"), "C004"),
    Fault("8730", lambda e: e.remove("C004", f"{CPP}/NumberOfPreviousCPP"), "C004"),
    Fault("8905", lambda e: e.set("C004", f"{CPP}/InitialCategoryOfAbuse", "XYZ"), "C004"),
    Fault("8910", lambda e: e.set("C004", f"{CPP}/LatestCategoryOfAbuse", "ABC"), "C004"),
    Fault(
        "8915",
        lambda e: e.set("C006", "ChildIdentifiers/PersonDeathDate", "2019-07-04"),
        "C006",
        frozenset({"8920"}),
    ),
    Fault("8920", lambda e: e.remove("C006", f"{CPP}/CPPendDate"), "C006"),
    Fault("8925", lambda e: e.set("C001", f"{CPP}/CPPendDate", "2019-05-10"), "C001"),
    Fault("8930", lambda e: e.set("C004", f"{CPP}/CPPendDate", "2020-04-05"), "C004"),
    Fault("8840", lambda e: e.set("C001", f"{CPP}/CPPendDate", "2019-05-17"), "C001"),
    Fault("8841", lambda e: e.set("C001", f"{CPP}/Reviews/CPPreviewDate", "2019-05-10"), "C001"),
    Fault("8842Q", lambda e: e.remove("C004", f"{CPP}/Reviews/CPPreviewDate"), "C004"),
    Fault("8935", lambda e: e.add("C004", EP, cpp("2019-03-01")), "C004", frozenset({"8940"})),
    Fault("8940", lambda e: e.add("C004", EP, cpp("2018-08-01", "2019-05-01")), "C004"),
)

# Faults outside the DfE list: values the reader cannot parse, codes outside the code list, required values.
VALUE_FAULTS: tuple[Fault, ...] = (
    Fault("code_list", lambda e: e.set("C006", "ChildIdentifiers/UPNunknown", "UN9"), "C006"),
    Fault(
        "bad_value",
        lambda e: e.set("C001", "ChildIdentifiers/PersonBirthDate", "2010-02-30"),
        "C001",
        frozenset({"8525Q"}),
    ),
    Fault("required", lambda e: e.remove("C007", f"{S47}/ICPCnotRequired"), "C007"),
    Fault(
        "implausible_date",
        lambda e: e.set("C005", "ChildIdentifiers/PersonBirthDate", "1899-12-31"),
        "C005",
        frozenset({"8775Q"}),
    ),
    Fault("8568", lambda e: e.set("C007", f"{EP}/ReferralNFA", "maybe"), "C007", frozenset({"bad_value"})),
)


def faulty_xml(fault: Fault, lea: str | None = None) -> bytes:
    """The clean return with ``fault`` applied (and the header's LEA replaced, when given)."""
    edit = Edit()
    fault.edit(edit)
    if lea is not None:
        edit.header("LEA", lea)
    return edit.xml()
