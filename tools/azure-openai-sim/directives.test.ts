import { describe, expect, it } from "vitest";
import {
  DirectiveError,
  echoText,
  parseControls,
  parseDirective,
  stripDirective,
} from "./directives";

describe("parseDirective", () => {
  it("reads every control with its type", () => {
    expect(
      parseDirective(
        "Hi [[sim tokens=12 rate=0 ttft=5 fault=disconnect at=3 times=2 retryAfter=0.5 filter=async finish=length split=1]]",
      ),
    ).toEqual({
      tokens: 12,
      rate: 0,
      ttft: 5,
      fault: "disconnect",
      at: 3,
      times: 2,
      retryAfter: 0.5,
      filter: "async",
      finish: "length",
      split: true,
    });
  });

  it("returns nothing for a message without a directive, and merges several directives", () => {
    expect(parseDirective("Just a question [sim] [[simulate]]")).toEqual({});
    expect(parseDirective("[[sim tokens=5]] text [[sim tokens=7 rate=1]]")).toEqual({
      tokens: 7,
      rate: 1,
    });
    expect(parseDirective("[[sim]]")).toEqual({});
  });

  it("rejects unknown keys, unknown faults and bad numbers with a clear message", () => {
    expect(() => parseDirective("[[sim speed=2]]")).toThrow(/unknown key "speed"/);
    expect(() => parseDirective("[[sim fault=418]]")).toThrow(/unknown fault "418"/);
    expect(() => parseDirective("[[sim tokens=abc]]")).toThrow(DirectiveError);
    expect(() => parseDirective("[[sim tokens=0]]")).toThrow(/at least 1/);
    expect(() => parseDirective("[[sim at=1.5]]")).toThrow(/whole number/);
    expect(() => parseDirective("[[sim rate=-1]]")).toThrow(/non-negative/);
    expect(() => parseDirective("[[sim filter=strict]]")).toThrow(/filter/);
    expect(() => parseDirective("[[sim finish=stop]]")).toThrow(/finish/);
  });
});

describe("controls for what real Azure does", () => {
  it("reads hint, seam and category, from a directive and from JSON", () => {
    expect(parseDirective("[[sim fault=429 hint=reset-tokens seam=restart]]")).toEqual({
      fault: "429",
      hint: "reset-tokens",
      seam: "restart",
    });
    expect(parseControls({ fault: "filter-late", category: "protected_material_text" })).toEqual({
      fault: "filter-late",
      category: "protected_material_text",
    });
  });

  it("rejects values it does not know, naming the choices", () => {
    expect(() => parseDirective("[[sim hint=later]]")).toThrow(
      /hint must be one of retry-after, reset-tokens, reset-requests, message, try-again, none/,
    );
    expect(() => parseDirective("[[sim seam=sloppy]]")).toThrow(/seam must be one of exact/);
    expect(() => parseControls({ category: "rude" })).toThrow(/category must be one of/);
  });
});

describe("stripDirective", () => {
  it("removes directives wherever they are and trims", () => {
    expect(stripDirective("Hello [[sim rate=0]]")).toBe("Hello");
    expect(stripDirective("[[sim rate=0]] Hello")).toBe("Hello");
    expect(stripDirective("Hello [[sim rate=0]] world")).toBe("Hello world");
    expect(stripDirective("No directive\nhere")).toBe("No directive\nhere");
  });
});

describe("parseControls", () => {
  it("accepts JSON values as numbers or strings", () => {
    expect(parseControls({ fault: "429", times: 2, retryAfter: "0" })).toEqual({
      fault: "429",
      times: 2,
      retryAfter: 0,
    });
    expect(parseControls({ fault: 503 })).toEqual({ fault: "503" });
  });

  it("rejects non-objects", () => {
    expect(() => parseControls("fault=429")).toThrow(/JSON object/);
    expect(() => parseControls(null)).toThrow(DirectiveError);
  });
});

describe("echo", () => {
  it("reads echo as a flag and piece as a positive whole number", () => {
    expect(parseDirective("[[sim echo rate=500 piece=1]]")).toEqual({
      echo: true,
      rate: 500,
      piece: 1,
    });
    expect(parseDirective("[[sim echo=0]]")).toEqual({ echo: false });
    expect(() => parseDirective("[[sim piece=0]]")).toThrow(/piece must be at least 1/);
    expect(() => parseDirective("[[sim echo=yes]]")).toThrow(/echo must be 1 or 0/);
  });

  it("is the text after the first directive, other directives removed, one leading newline trimmed", () => {
    expect(echoText("[[sim echo]]\n\n  - item  \n")).toBe("\n  - item  \n");
    expect(echoText("before [[sim echo]] after [[sim rate=1]]x")).toBe(" after x");
    expect(echoText("[[sim echo]]")).toBe("");
  });
});
