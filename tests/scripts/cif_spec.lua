-- Unit tests of the CIF reader (scripts/h5lua/cif.lua).

local cif = require "h5lua.cif"

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
local FIXTURES = here .. "/../fixtures/cif/"
local SAMPLES = here .. "/../../scripts/examples/samples/"

local function fixture(name)
  return FIXTURES .. name
end

-- The blocks of a CIF text, by name.
local function by_name(blocks)
  local out = {}
  for _, b in ipairs(blocks) do out[b.name] = b end
  return out
end

-- Asserts that fn raises exactly msg. luassert's has_error drops a leading
-- "file:line: " from string errors, which is the very part these messages
-- must get right, so compare the whole message here.
local function raises_at(fn, msg)
  local ok, err = pcall(fn)
  assert.is_false(ok, "no error raised")
  assert.equal(msg, err)
end

local function one_block(text)
  return cif.parse(text, "t.cif")[1]
end

-- A complete small structure, to vary in the to_structure() specs.
local QUARTZ = [[
data_quartz
_chemical_formula_sum 'O2 Si'
_cell_length_a 4.9134(3)
_cell_length_b 4.9134(3)
_cell_length_c 5.4052(4)
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
_cell_volume 113.01
_cell_formula_units_Z 3
_space_group_name_H-M_alt 'P 32 2 1'
_space_group_IT_number 154
_space_group_crystal_system trigonal
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Si1 0.4697(2) 0 0.3333
O1 0.4135(3) 0.2669(3) 0.2144(2)
]]

describe("h5lua.cif", function()


  describe("parse()", function()

    it("reads every data block of a file in order", function()
      local blocks = cif.parse_file(fixture("two_blocks.cif"))
      assert.equal(3, #blocks)
      assert.same({ "global", "ALANIN", "NACL" },
        { blocks[1].name, blocks[2].name, blocks[3].name })
    end)

    it("lower-cases tags and keeps block names as written", function()
      local blocks = cif.parse_file(fixture("syntax.cif"))
      assert.equal("Syntax_1", blocks[1].name)
      assert.equal("it''s", blocks[1].tags["_single_quoted"])
      assert.is_nil(blocks[1].tags["_Single_Quoted"])
    end)

    it("reads reserved words in any case", function()
      local blocks = cif.parse_file(fixture("syntax.cif"))
      assert.equal(2, #blocks)
      assert.equal("second", blocks[2].name)
      assert.equal(1, #blocks[1].loops)
    end)

    it("reads loops as rows of values under their tags", function()
      local b = cif.parse_file(fixture("two_blocks.cif"))[2]
      local loop = b.looped["_atom_site_fract_x"]
      assert.same({ "_atom_site_label", "_atom_site_type_symbol",
                    "_atom_site_fract_x", "_atom_site_fract_y",
                    "_atom_site_fract_z", "_atom_site_occupancy" }, loop.tags)
      assert.equal(7, #loop.rows)
      assert.same({ "O1", "O", "0.7256(2)", "0.0843(1)", "0.6368(2)", "1" },
        loop.rows[1])
      assert.equal(3, loop.index["_atom_site_fract_x"])
      assert.equal(24, loop.line)
      assert.is_nil(b.tags["_atom_site_label"])
    end)

    it("reads a loop that has no values", function()
      local b = one_block("data_x\nloop_\n_a\n_b\nloop_\n_c\n1\n")
      assert.same({}, b.loops[1].rows)
      assert.same({ { "1" } }, b.loops[2].rows)
    end)

    it("closes a quote only before whitespace, so 'a'b' is a'b", function()
      local tags = cif.parse_file(fixture("syntax.cif"))[1].tags
      assert.equal("a'b", tags._embedded_quote)
      assert.equal('x"y', tags._double_with_double)
    end)

    it("keeps 'O''Brien' as written, CIF 1.1 has no doubled quotes",
      function()
        local b = cif.parse_file(fixture("two_blocks.cif"))[1]
        assert.equal("O''Brien, Mary", b.tags._publ_contact_author_name)
      end)

    it("reads double quotes around single quotes", function()
      local tags = cif.parse_file(fixture("syntax.cif"))[1].tags
      assert.equal("say 'hi' now", tags._double_quoted)
      assert.equal("", tags._empty_quoted)
    end)

    it("closes a quote at the end of the file", function()
      assert.equal("end", one_block("data_x _a 'end'").tags._a)
    end)

    it("reads semicolon text fields with their inner lines", function()
      local tags = cif.parse_file(fixture("syntax.cif"))[1].tags
      assert.equal(" first line\n   second line; with 'quotes' and # hash",
        tags._text_field)
      assert.equal("starts here\nand goes on", tags._text_on_opening_line)
    end)

    it("reads a ; that does not start a line as part of a value", function()
      local tags = cif.parse_file(fixture("syntax.cif"))[1].tags
      assert.equal("a;b", tags._semicolon_inside)
    end)

    it("keeps ? and . as markers, and quoted ones as strings", function()
      local tags = cif.parse_file(fixture("syntax.cif"))[1].tags
      assert.equal(cif.UNKNOWN, tags._unknown)
      assert.equal(cif.INAPPLICABLE, tags._inapplicable)
      assert.not_equal(cif.UNKNOWN, cif.INAPPLICABLE)
      assert.equal("?", tostring(cif.UNKNOWN))
      assert.equal(".", tostring(cif.INAPPLICABLE))
      assert.equal("?", tags._quoted_unknown)
      assert.equal(".", tags._quoted_inapplicable)
      assert.is_true(cif.is_marker(tags._unknown))
      assert.is_false(cif.is_marker(tags._quoted_unknown))
    end)

    it("skips comments but keeps # inside values", function()
      local b = cif.parse_file(fixture("syntax.cif"))[1]
      assert.equal("not # a comment", b.tags._hash_inside)
      assert.equal("a#b", b.tags._unquoted_hash)
      local rows = b.loops[1].rows
      assert.equal(5, #rows)
      assert.same({ "two words", "2" }, rows[2])
      assert.same({ "three", "3" }, rows[3])
      assert.same({ "four", cif.UNKNOWN }, rows[4])
      assert.same({ "five", cif.INAPPLICABLE }, rows[5])
    end)

    it("reads CR LF and lone CR line endings", function()
      local b = cif.parse_file(fixture("crlf.cif"))[1]
      assert.equal("CRLF", b.name)
      assert.equal("4.0", b.tags._cell_length_a)
      assert.equal("line one\nline two", b.tags._text)
      assert.equal("1", b.tags._cr_only)
      assert.equal("2", b.tags._next_tag)
    end)

    it("keeps global_ and save_ frames apart from the data items", function()
      local blocks = cif.parse_file(fixture("syntax.cif"))
      assert.equal("global default",
        blocks.global.tags._audit_creation_method)
      local b = blocks[1]
      assert.equal(1, #b.frames)
      assert.equal("frame_a", b.frames[1].name)
      assert.equal("inside the frame", b.frames[1].tags._frame_item)
      assert.is_nil(b.tags._frame_item)
      assert.equal("back", b.tags._after_frame)
    end)

    it("takes the last value of a repeated tag", function()
      local tags = cif.parse_file(fixture("syntax.cif"))[1].tags
      assert.equal("second", tags._repeated)
      local b = one_block("data_x\nloop_ _a 1 2\n_a 3\n")
      assert.equal("3", b.tags._a)
      assert.is_nil(b.looped._a)
    end)

    it("reads a file without a final line break", function()
      assert.equal("1", one_block("data_x\n_a 1").tags._a)
    end)

    it("reads a file ended by a DOS Ctrl-Z", function()
      assert.equal("1", one_block("data_x\r\n_a 1\r\n\26").tags._a)
    end)

    it("reads an empty text as no blocks", function()
      assert.same({}, cif.parse("", "t.cif"))
      assert.same({}, cif.parse("# only a comment\n", "t.cif"))
    end)

    describe("on a syntax error", function()

      it("names the file and the lines of an unterminated text field",
        function()
          local path = fixture("unterminated_text.cif")
          raises_at(function() cif.parse_file(path) end,
            path .. ":12: unterminated text field starting at line 9")
        end)

      it("reports an unterminated quoted string", function()
        raises_at(function()
          cif.parse("data_x\n_a 'one\n_b 'two' \n", "q.cif")
        end, "q.cif:2: unterminated quoted string: closing ' expected "
          .. "before end of line")
        raises_at(function()
          cif.parse('data_x\n_a "it"s\n', "q.cif")
        end, 'q.cif:2: unterminated quoted string: closing " expected '
          .. "before end of line")
      end)

      it("reports a tag without a value", function()
        raises_at(function()
          cif.parse("data_x\n_a\n_b 1\n", "v.cif")
        end, "v.cif:3: value expected for _a, found tag _b")
        raises_at(function()
          cif.parse("data_x\n_a 1\n_b\n", "v.cif")
        end, "v.cif:3: value expected for _b, found end of file")
      end)

      it("reports a loop with a wrong number of values", function()
        raises_at(function()
          cif.parse("data_x\n\nloop_\n_a\n_b\n1 2\n3\n_c 1\n", "l.cif")
        end, "l.cif:3: loop has 3 values for its 2 tags "
          .. "(expected a multiple of 2)")
      end)

      it("reports loop_ without tags", function()
        raises_at(function()
          cif.parse("data_x\nloop_\n1 2\n", "l.cif")
        end, "l.cif:3: tag expected after loop_, found value '1'")
      end)

      it("reports a value without a tag", function()
        raises_at(function()
          cif.parse("data_x\n_a 1 2\n", "t.cif")
        end, "t.cif:2: tag expected, found value '2'")
      end)

      it("reports data before the first data_ header", function()
        raises_at(function()
          cif.parse("# header\n_a 1\ndata_x\n", "h.cif")
        end, "h.cif:2: data_ block header expected, found tag _a")
      end)

      it("reports a save_ frame left open by another", function()
        raises_at(function()
          cif.parse("data_x\nsave_a\n_a 1\nsave_b\n", "s.cif")
        end, "s.cif:4: save_ expected to close the frame started at line 2, "
          .. "found save_b")
      end)

      it("counts lines of CR LF files", function()
        local path = fixture("crlf_error.cif")
        raises_at(function() cif.parse_file(path) end,
          path .. ":10: value expected for _bad, found end of file")
      end)

      it("uses (string) when no file name is given", function()
        raises_at(function() cif.parse("_a 1") end,
          "(string):1: data_ block header expected, found tag _a")
      end)
    end)
  end)

  describe("parse_file()", function()
    it("raises when the file cannot be opened", function()
      raises_at(function() cif.parse_file("/nonexistent/x.cif") end,
        "cannot open /nonexistent/x.cif: No such file or directory")
    end)
  end)

  describe("number()", function()

    it("keeps the uncertainty of 5.784(2)", function()
      assert.same({ 5.784, 0.002 }, { cif.number("5.784(2)") })
    end)

    it("scales the uncertainty to the last digit and the exponent",
      function()
        assert.same({ 1234, 12 }, { cif.number("1234(12)") })
        assert.same({ 1200.0, 400.0 }, { cif.number("1.2e3(4)") })
        assert.same({ 0.0123, 0.0004 }, { cif.number("1.23E-2(4)") })
        assert.same({ -0.25, 0.11 }, { cif.number("-0.25(11)") })
      end)

    it("reads numbers without an uncertainty", function()
      assert.same({ 90 }, { cif.number("90") })
      assert.equal("integer", math.type(cif.number("4")))
      assert.equal("float", math.type(cif.number("4.0")))
      assert.same({ 0.5 }, { cif.number(".5") })
      assert.same({ 5.0 }, { cif.number("5.") })
      assert.same({ 1e-3 }, { cif.number("+1e-3") })
    end)

    it("gives nil for ?, ., nil and text", function()
      for _, v in ipairs({ cif.UNKNOWN, cif.INAPPLICABLE, "?", ".", "",
                           "abc", "1/4", "1.2.3", "5.784(2", "5(2)x",
                           "0x10", "inf", "nan" }) do
        assert.is_nil(cif.number(v), tostring(v))
      end
      assert.is_nil(cif.number(nil))
    end)
  end)

  describe("element()", function()

    it("strips charges and digits from type symbols", function()
      assert.equal("O", cif.element("O2-"))
      assert.equal("Fe", cif.element("Fe3+"))
      assert.equal("Na", cif.element("Na1+"))
      assert.equal("Cl", cif.element("Cl1-"))
    end)

    it("reads the element from a label", function()
      assert.equal("C", cif.element("C12A"))
      assert.equal("Cl", cif.element("Cl1"))
      assert.equal("Cl", cif.element("CL1"))
      assert.equal("O", cif.element("OW1"))
      assert.equal("Si", cif.element("Si1"))
      assert.equal("Si", cif.element("SI1"))
      assert.equal("N", cif.element("N1'"))
    end)

    it("tells H from Hg", function()
      assert.equal("H", cif.element("H1"))
      assert.equal("H", cif.element("H12B"))
      assert.equal("Hg", cif.element("Hg1"))
      assert.equal("H", cif.element("HG1"))
      assert.equal("H", cif.element("HO3"))
      assert.equal("Hg", cif.element("HG1", { C = true, Hg = true }))
      assert.equal("H", cif.element("HO3", { C = true, H = true, O = true }))
    end)

    it("lets the formula decide between one and two letters", function()
      assert.equal("C", cif.element("CA", { C = true, N = true }))
      assert.equal("Ca", cif.element("CA", { Ca = true, O = true }))
      assert.equal("Nb", cif.element("NB1", { Nb = true, O = true }))
      assert.equal("N", cif.element("NB1", { C = true, N = true }))
    end)

    it("reads type symbols as elements first", function()
      assert.equal("Ca", cif.type_element("CA"))
      assert.equal("C", cif.type_element("CA", { C = true, N = true }))
      assert.equal("Na", cif.type_element("Na", { N = true }))
      assert.equal("O", cif.type_element("O2-"))
    end)

    it("gives nil when no element can be read", function()
      assert.is_nil(cif.element("Q1"))
      assert.is_nil(cif.element("123"))
      assert.is_nil(cif.element(cif.UNKNOWN))
    end)
  end)

  describe("column() and value()", function()

    it("give a looped column and a single value", function()
      local b = one_block("data_x _a 1 _c ? loop_ _b _d 2 3 4 5")
      assert.same({ "2", "4" }, (cif.column(b, "_B")))
      assert.same({ "1" }, (cif.column(b, "_a")))
      assert.is_nil(cif.column(b, "_zz"))
      assert.equal("1", cif.value(b, "_A"))
      assert.is_nil(cif.value(b, "_b"))
      assert.is_nil(cif.value(b, "_c"))
    end)
  end)

  describe("to_structure()", function()

    it("builds the record from new tag spellings", function()
      local b = cif.parse_file(fixture("two_blocks.cif"))[2]
      local s = cif.to_structure(b, "two_blocks.cif")
      assert.equal("ALANIN", s.identifier)
      assert.same({ 5.784, 12.343, 6.032 }, s.cell_lengths)
      assert.same({ 0.002, 0.004, 0.002 }, s.cell_lengths_su)
      assert.same({ 90, 90, 90 }, s.cell_angles)
      assert.is_nil(s.cell_angles_su)
      assert.equal("P 21 21 21", s.space_group)
      assert.equal(19, s.space_group_number)
      assert.equal("orthorhombic", s.crystal_system)
      assert.equal("C3 H7 N O2", s.formula)
      assert.equal(4, s.z)
      assert.equal(430.6, s.cell_volume)
      assert.equal(7, #s.atoms)
      assert.same({ label = "O1", symbol = "O",
                    coords = { 0.7256, 0.0843, 0.6368 }, occupancy = 1 },
        s.atoms[1])
      assert.same({ label = "H1", symbol = "H",
                    coords = { 0.391, 0.236, 0.453 } }, s.atoms[7])
    end)

    it("builds the record from old tag spellings", function()
      local b = cif.parse_file(fixture("two_blocks.cif"))[3]
      assert.same({
        identifier = "NACL",
        cell_lengths = { 5.6402, 5.6402, 5.6402 },
        cell_angles = { 90.0, 90.0, 90.0 },
        space_group = "F m -3 m",
        space_group_number = 225,
        crystal_system = "cubic",
        formula = "Cl Na",
        atoms = {
          { label = "Na1", symbol = "Na", coords = { 0.0, 0.0, 0.0 } },
          { label = "Cl1", symbol = "Cl", coords = { 0.5, 0.5, 0.5 } },
        },
      }, cif.to_structure(b))
    end)

    it("reads tags of any case and DDLm dotted names", function()
      local s = assert(cif.to_structure(one_block([[
data_dotted
_CELL.LENGTH_A 3 _cell.length_b 3 _cell.length_c 3
_cell.angle_alpha 90 _cell.angle_beta 90 _cell.angle_gamma 90
_space_group.name_H-M_alt 'P m -3 m'
_space_group.IT_number 221
loop_ _atom_site.label _atom_site.fract_x _atom_site.fract_y
_atom_site.fract_z
Cs1 0 0 0 Cl1 0.5 0.5 0.5
]])))
      assert.equal("P m -3 m", s.space_group)
      assert.equal(221, s.space_group_number)
      assert.same({ 3, 3, 3 }, s.cell_lengths)
      assert.equal(2, #s.atoms)
      assert.equal("Cs", s.atoms[1].symbol)
    end)

    it("prefers _space_group_name_H-M_alt over the old tag", function()
      local s = cif.to_structure(one_block(QUARTZ
        .. "_symmetry_space_group_name_H-M 'P 31 2 1'\n"))
      assert.equal("P 32 2 1", s.space_group)
    end)

    it("normalises the whitespace of the space-group symbol", function()
      local text = QUARTZ:gsub("'P 32 2 1'", "'  P 1   21/c\t1 '")
      assert.equal("P 1 21/c 1", cif.to_structure(one_block(text)).space_group)
      text = QUARTZ:gsub("'P 32 2 1'", "\n;\nP 21/c\n;")
      assert.equal("P 21/c", cif.to_structure(one_block(text)).space_group)
    end)

    it("leaves out what the block does not give", function()
      local text = QUARTZ:gsub("_cell_volume[^\n]*\n", "")
        :gsub("_space_group[^\n]*\n", "")
        :gsub("_cell_formula_units_Z 3", "_cell_formula_units_Z ?")
      local s = cif.to_structure(one_block(text))
      assert.is_nil(s.cell_volume)
      assert.is_nil(s.space_group)
      assert.is_nil(s.space_group_number)
      assert.is_nil(s.crystal_system)
      assert.is_nil(s.z)
      assert.is_nil(s.atoms[1].occupancy)
    end)

    it("derives symbols from labels when there are no type symbols",
      function()
        local s = cif.to_structure(one_block([[
data_labels
_chemical_formula_sum 'C2 H4 Cl2 Hg O'
_cell_length_a 5 _cell_length_b 6 _cell_length_c 7
_cell_angle_alpha 90 _cell_angle_beta 100 _cell_angle_gamma 90
loop_
_atom_site_label _atom_site_fract_x _atom_site_fract_y _atom_site_fract_z
HG1 0 0 0
CL1 .1 .1 .1
C12A .2 .2 .2
H12B .3 .3 .3
OW1 .4 .4 .4
]]))
        local symbols = {}
        for i, atom in ipairs(s.atoms) do symbols[i] = atom.symbol end
        assert.same({ "Hg", "Cl", "C", "H", "O" }, symbols)
      end)

    it("reads the formula for symbols whatever its case", function()
      local s = cif.to_structure(one_block([[
data_burkeite
_chemical_formula_sum ' C.49 NA4 O7.51 S1.51  '
_cell_length_a 5.2 _cell_length_b 9.2 _cell_length_c 7.1
_cell_angle_alpha 90 _cell_angle_beta 90 _cell_angle_gamma 90
loop_ _atom_site_label _atom_site_fract_x _atom_site_fract_y
_atom_site_fract_z
NA1 0 0 0
]]))
      assert.equal("C.49 NA4 O7.51 S1.51", s.formula)
      assert.equal("Na", s.atoms[1].symbol)
    end)

    it("keeps atom sites whose coordinates are unknown, without coords",
      function()
        local s = cif.to_structure(one_block(QUARTZ .. "X1 ? ? ?\n"))
        assert.equal(3, #s.atoms)
        assert.same({ label = "X1" }, s.atoms[3])
      end)

    it("reads a single atom site that is not looped", function()
      local s = cif.to_structure(one_block([[
data_copper
_cell_length_a 3.615 _cell_length_b 3.615 _cell_length_c 3.615
_cell_angle_alpha 90 _cell_angle_beta 90 _cell_angle_gamma 90
_symmetry_space_group_name_H-M 'F m -3 m'
_atom_site_label Cu1
_atom_site_fract_x 0
_atom_site_fract_y 0
_atom_site_fract_z 0
]]))
      assert.same({ { label = "Cu1", symbol = "Cu", coords = { 0, 0, 0 } } },
        s.atoms)
    end)

    it("fills in the angles that the crystal system fixes", function()
      local mono = QUARTZ:gsub("_cell_angle_alpha 90\n", "")
        :gsub("_cell_angle_gamma 120\n", "")
        :gsub("_cell_angle_beta 90", "_cell_angle_beta 101.5(2)")
        :gsub("trigonal", "monoclinic")
      local s = cif.to_structure(one_block(mono))
      assert.same({ 90.0, 101.5, 90.0 }, s.cell_angles)
      assert.same({ 0, 0.2, 0 }, s.cell_angles_su)
      local hex = QUARTZ:gsub("_cell_angle_[^\n]*\n", "")
      assert.same({ 90.0, 90.0, 120.0 },
        cif.to_structure(one_block(hex)).cell_angles)
    end)

    it("returns nil and a reason for a block without a cell", function()
      local b = cif.parse_file(fixture("two_blocks.cif"))[1]
      assert.same({ nil, "f.cif:3: data_global: no unit cell "
                         .. "(_cell_length_a, _b, _c)" },
        { cif.to_structure(b, "f.cif") })
    end)

    it("returns nil and a reason for a block without atom sites", function()
      local text = QUARTZ:gsub("loop_.*", "")
      assert.same({ nil, "(string):1: data_quartz: no atom sites "
                         .. "(_atom_site_fract_x, _y, _z)" },
        { cif.to_structure(one_block(text)) })
    end)

    it("returns nil and a reason for angles it cannot know", function()
      local text = QUARTZ:gsub("_cell_angle_gamma 120\n", "")
        :gsub("trigonal", "triclinic")
      assert.same({ nil, "q.cif:1: data_quartz: no cell angle "
                         .. "_cell_angle_gamma" },
        { cif.to_structure(one_block(text), "q.cif") })
      text = QUARTZ:gsub("4.9134%(3%)\n_cell_length_b", "1/4\n_cell_length_b")
      assert.same({ nil, "q.cif:3: data_quartz: cell length _cell_length_a "
                         .. "is not a number: '1/4'" },
        { cif.to_structure(one_block(text), "q.cif") })
    end)

    it("names the line of the offending tag, else of the block header", function()
      local text = "# two blocks\n" .. QUARTZ .. QUARTZ:gsub("data_quartz", "data_two")
        :gsub("_cell_angle_beta 90", "_cell_angle_beta ninety")
      local blocks = cif.parse(text, "q.cif")
      assert.is_table(cif.to_structure(blocks[1], "q.cif"))
      assert.same({ nil, "q.cif:28: data_two: cell angle _cell_angle_beta is not a "
                         .. "number: 'ninety'" }, { cif.to_structure(blocks[2], "q.cif") })
      -- A looped tag: the line of its loop_.
      text = QUARTZ:gsub("_atom_site_fract_z\n", ""):gsub(" 0%.3333\n", "\n")
        :gsub(" 0%.2144%(2%)\n", "\n")
      assert.same({ nil, "q.cif:14: data_quartz: atom sites lack _atom_site_fract_y or "
                         .. "_atom_site_fract_z" }, { cif.to_structure(one_block(text), "q.cif") })
      -- A looped cell length.
      text = QUARTZ:gsub("_cell_length_a 4.9134%(3%)\n", "loop_ _cell_length_a x\n")
      assert.same({ nil, "q.cif:3: data_quartz: cell length _cell_length_a is not a "
                         .. "number: 'x'" }, { cif.to_structure(one_block(text), "q.cif") })
    end)

    it("takes the angles from the H-M symbol when nothing else gives them", function()
      local function bare(hm, lengths)
        return "data_x\n" .. lengths .. "_symmetry_space_group_name_H-M '" .. hm .. "'\n"
          .. "loop_ _atom_site_label _atom_site_fract_x _atom_site_fract_y _atom_site_fract_z\n"
          .. "Na1 0 0 0\n"
      end
      local cubic = "_cell_length_a 5.64\n_cell_length_b 5.64\n_cell_length_c 5.64\n"
      assert.same({ 90.0, 90.0, 90.0 },
        cif.to_structure(one_block(bare("F m -3 m", cubic))).cell_angles)
      local hexagonal = "_cell_length_a 3.2\n_cell_length_b 3.2\n_cell_length_c 5.2\n"
      assert.same({ 90.0, 90.0, 120.0 },
        cif.to_structure(one_block(bare("P 63/m m c", hexagonal))).cell_angles)
      -- Trigonal on hexagonal axes fixes them; on rhombohedral axes it does not.
      assert.same({ 90.0, 90.0, 120.0 },
        cif.to_structure(one_block(bare("R -3 m", hexagonal))).cell_angles)
      assert.same({ nil, "(string):1: data_x: no cell angle _cell_angle_alpha" },
        { cif.to_structure(one_block(bare("R -3 m :R", cubic))) })
      -- Monoclinic and triclinic groups do not fix them; nor does a symbol
      -- that names no space group.
      local ortho = "_cell_length_a 5\n_cell_length_b 6\n_cell_length_c 7\n"
      for _, hm in ipairs({ "P 21/c", "P -1", "X 9 9" }) do
        assert.same({ nil, "(string):1: data_x: no cell angle _cell_angle_alpha" },
          { cif.to_structure(one_block(bare(hm, ortho))) })
      end
      assert.same({ 90.0, 90.0, 90.0 },
        cif.to_structure(one_block(bare("P n m a", ortho))).cell_angles)
    end)

    it("makes a record that lua-cjson encodes", function()
      local cjson = require "cjson"
      local s = cif.to_structure(one_block(QUARTZ))
      local back = cjson.decode(cjson.encode(s))
      assert.equal("P 32 2 1", back.space_group)
      assert.same({ 4.9134, 4.9134, 5.4052 }, back.cell_lengths)
      assert.same({ 0.4135, 0.2669, 0.2144 }, back.atoms[2].coords)
    end)
  end)

  describe("read_structures()", function()

    it("returns the structures and the skipped blocks", function()
      local path = fixture("two_blocks.cif")
      local structures, skipped = cif.read_structures(path)
      assert.equal(2, #structures)
      assert.equal("ALANIN", structures[1].identifier)
      assert.equal("NACL", structures[2].identifier)
      assert.same({ { name = "global", reason = path
        .. ":3: data_global: no unit cell (_cell_length_a, _b, _c)" } },
        skipped)
    end)

    it("raises on a syntax error with file and line", function()
      local path = fixture("unterminated_text.cif")
      raises_at(function() cif.read_structures(path) end,
        path .. ":12: unterminated text field starting at line 9")
    end)
  end)

  describe("the example samples", function()
    it("are all complete structures", function()
      local names = {}
      local ok, lfs = pcall(require, "lfs")
      if ok then
        for name in lfs.dir(SAMPLES) do names[#names + 1] = name end
      else
        for name in io.popen("ls '" .. SAMPLES .. "'"):lines() do
          names[#names + 1] = name
        end
      end
      local files, count, ids = 0, 0, {}
      for _, name in ipairs(names) do
        if name:match("%.cif$") then
          files = files + 1
          local structures, skipped = cif.read_structures(SAMPLES .. name)
          assert.same({}, skipped)
          for _, s in ipairs(structures) do
            count = count + 1
            assert.is_nil(ids[s.identifier], "repeated " .. s.identifier)
            ids[s.identifier] = true
            assert.is_string(s.space_group, s.identifier)
            assert.is_number(s.space_group_number, s.identifier)
            assert.is_string(s.formula, s.identifier)
            for _, atom in ipairs(s.atoms) do
              assert.is_string(atom.symbol, s.identifier)
              assert.equal(3, #atom.coords, s.identifier)
            end
          end
        end
      end
      assert.is_true(files >= 25, files .. " sample files")
      assert.is_true(count > files, "no multi-block sample")
    end)
  end)

  describe("speed", function()
    it("parses a 1 MB file in well under a second", function()
      local parts = { QUARTZ }
      for i = 1, 30000 do
        parts[#parts + 1] = string.format(
          "X%d 0.%04d(3) 0.%04d(2) 0.%04d(4) # site %d\n", i, i % 9999,
          (i * 7) % 9999, (i * 13) % 9999, i)
      end
      local text = table.concat(parts)
      assert.is_true(#text > 1e6)
      local t0 = os.clock()
      local s = cif.to_structure(cif.parse(text, "big.cif")[1])
      local dt = os.clock() - t0
      assert.equal(30002, #s.atoms)
      assert.is_true(dt < 1.0, ("took %.2f s"):format(dt))
    end)
  end)
end)
