using System.Globalization;

namespace Atomic.Sidecar.Resiliency;

/// <summary>A circuit breaker's counts, the variables a <c>trip</c> expression reads (daprd's names).</summary>
internal readonly record struct BreakerCounts(long Requests, long TotalSuccesses, long TotalFailures, long ConsecutiveSuccesses, long ConsecutiveFailures);

/// <summary>
/// A circuit breaker's <c>trip</c> condition: the part of CEL daprd's examples use (<c>consecutiveFailures &gt;= 5</c>,
/// <c>requests &gt; 5 &amp;&amp; totalFailures &gt; 3</c>): the five counts, numbers, <c>+ - * / %</c>, comparisons,
/// <c>&amp;&amp;</c>, <c>||</c>, <c>!</c> and parentheses. Integers divide as CEL's do (truncating); a number with a
/// fraction makes the arithmetic real. Anything else is refused when the resource is read, not when the breaker trips.
/// </summary>
internal sealed class TripExpression
{
    private readonly Node _root;

    private TripExpression(string text, Node root)
    {
        Text = text;
        _root = root;
    }

    /// <summary>The expression as written.</summary>
    public string Text { get; }

    /// <summary>Reads <paramref name="text"/>; a <see cref="FormatException"/> says what it could not read.</summary>
    public static TripExpression Parse(string text)
    {
        var parser = new Parser(text);
        Node root = parser.ParseAll();
        if (root.Kind != ValueKind.Bool)
        {
            throw new FormatException("the expression is a number, not a condition");
        }

        return new TripExpression(text, root);
    }

    /// <summary>Whether the breaker trips at <paramref name="counts"/>.</summary>
    public bool Evaluate(BreakerCounts counts) => _root.Eval(counts).Bool;

    public override string ToString() => Text;

    private enum ValueKind
    {
        Int,
        Real,
        Bool,
    }

    private readonly record struct Value(ValueKind Kind, long Int, double Real, bool Bool)
    {
        public double AsReal => Kind == ValueKind.Int ? Int : Real;
    }

    private abstract record Node(ValueKind Kind)
    {
        public abstract Value Eval(BreakerCounts counts);
    }

    private sealed record Literal(Value Constant) : Node(Constant.Kind)
    {
        public override Value Eval(BreakerCounts counts) => Constant;
    }

    private sealed record Variable(string Name) : Node(ValueKind.Int)
    {
        public override Value Eval(BreakerCounts counts) => new(ValueKind.Int, Name switch
        {
            "requests" => counts.Requests,
            "totalSuccesses" => counts.TotalSuccesses,
            "totalFailures" => counts.TotalFailures,
            "consecutiveSuccesses" => counts.ConsecutiveSuccesses,
            _ => counts.ConsecutiveFailures,
        }, 0, false);
    }

    private sealed record Not(Node Operand) : Node(ValueKind.Bool)
    {
        public override Value Eval(BreakerCounts counts) => new(ValueKind.Bool, 0, 0, !Operand.Eval(counts).Bool);
    }

    private sealed record Negate(Node Operand) : Node(Operand.Kind)
    {
        public override Value Eval(BreakerCounts counts)
        {
            Value v = Operand.Eval(counts);
            return v.Kind == ValueKind.Int ? v with { Int = -v.Int } : v with { Real = -v.Real };
        }
    }

    private sealed record Binary(string Op, Node Left, Node Right, ValueKind Result) : Node(Result)
    {
        public override Value Eval(BreakerCounts counts)
        {
            if (Op is "&&" or "||")
            {
                bool left = Left.Eval(counts).Bool;
                bool value = Op == "&&" ? left && Right.Eval(counts).Bool : left || Right.Eval(counts).Bool; // short-circuits, as CEL
                return new(ValueKind.Bool, 0, 0, value);
            }

            Value l = Left.Eval(counts);
            Value r = Right.Eval(counts);
            bool integers = l.Kind == ValueKind.Int && r.Kind == ValueKind.Int;
            switch (Op)
            {
                case "<" or "<=" or ">" or ">=" or "==" or "!=":
                    int order = integers ? l.Int.CompareTo(r.Int) : l.AsReal.CompareTo(r.AsReal);
                    if (l.Kind == ValueKind.Bool)
                    {
                        order = l.Bool == r.Bool ? 0 : 1;
                    }

                    bool compared = Op switch
                    {
                        "<" => order < 0,
                        "<=" => order <= 0,
                        ">" => order > 0,
                        ">=" => order >= 0,
                        "==" => order == 0,
                        _ => order != 0,
                    };
                    return new(ValueKind.Bool, 0, 0, compared);
                case "/" or "%" when integers && r.Int == 0:
                    return new(ValueKind.Int, 0, 0, false); // CEL errors on it, and daprd does not trip on an error
                default:
                    return integers
                        ? new(ValueKind.Int, Op switch { "+" => l.Int + r.Int, "-" => l.Int - r.Int, "*" => l.Int * r.Int, "/" => l.Int / r.Int, _ => l.Int % r.Int }, 0, false)
                        : new(ValueKind.Real, 0, Op switch { "+" => l.AsReal + r.AsReal, "-" => l.AsReal - r.AsReal, "*" => l.AsReal * r.AsReal, "/" => l.AsReal / r.AsReal, _ => l.AsReal % r.AsReal }, false);
            }
        }
    }

    /// <summary>Recursive descent, lowest precedence first: <c>||</c>, <c>&amp;&amp;</c>, comparison, additive, multiplicative, unary.</summary>
    private ref struct Parser(string text)
    {
        private static readonly string[] Variables = ["requests", "totalSuccesses", "totalFailures", "consecutiveSuccesses", "consecutiveFailures"];
        private readonly string _text = text;
        private int _at;

        public Node ParseAll()
        {
            Node node = Or();
            SkipSpace();
            return _at == _text.Length ? node : throw Error($"unexpected '{_text[_at..]}'");
        }

        private Node Or()
        {
            Node left = And();
            while (Take("||"))
            {
                left = new Binary("||", Bool(left), Bool(And()), ValueKind.Bool);
            }

            return left;
        }

        private Node And()
        {
            Node left = Comparison();
            while (Take("&&"))
            {
                left = new Binary("&&", Bool(left), Bool(Comparison()), ValueKind.Bool);
            }

            return left;
        }

        private Node Comparison()
        {
            Node left = Additive();
            foreach (string op in new[] { "<=", ">=", "==", "!=", "<", ">" })
            {
                if (Take(op))
                {
                    Node right = Additive();
                    if ((left.Kind == ValueKind.Bool) != (right.Kind == ValueKind.Bool))
                    {
                        throw Error($"'{op}' compares a condition with a number");
                    }

                    return new Binary(op, left, right, ValueKind.Bool);
                }
            }

            return left;
        }

        private Node Additive()
        {
            Node left = Multiplicative();
            while (true)
            {
                string? op = Take("+") ? "+" : Take("-") ? "-" : null;
                if (op is null)
                {
                    return left;
                }

                left = Arithmetic(op, left, Multiplicative());
            }
        }

        private Node Multiplicative()
        {
            Node left = Unary();
            while (true)
            {
                string? op = Take("*") ? "*" : Take("/") ? "/" : Take("%") ? "%" : null;
                if (op is null)
                {
                    return left;
                }

                left = Arithmetic(op, left, Unary());
            }
        }

        private Node Unary()
        {
            if (Take("!"))
            {
                return new Not(Bool(Unary()));
            }

            if (Take("-"))
            {
                Node operand = Unary();
                return operand.Kind == ValueKind.Bool ? throw Error("'-' before a condition") : new Negate(operand);
            }

            return Primary();
        }

        private Node Primary()
        {
            SkipSpace();
            if (Take("("))
            {
                Node inner = Or();
                return Take(")") ? inner : throw Error("a '(' is not closed");
            }

            int start = _at;
            if (_at < _text.Length && char.IsAsciiDigit(_text[_at]))
            {
                while (_at < _text.Length && (char.IsAsciiDigit(_text[_at]) || _text[_at] == '.'))
                {
                    _at++;
                }

                string number = _text[start.._at];
                if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long whole))
                {
                    return new Literal(new Value(ValueKind.Int, whole, 0, false));
                }

                return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double real)
                    ? new Literal(new Value(ValueKind.Real, 0, real, false))
                    : throw Error($"'{number}' is not a number");
            }

            while (_at < _text.Length && (char.IsAsciiLetterOrDigit(_text[_at]) || _text[_at] == '_'))
            {
                _at++;
            }

            string name = _text[start.._at];
            return name switch
            {
                "" => throw Error(_at < _text.Length ? $"unexpected '{_text[_at]}'" : "the expression ends too early"),
                "true" or "false" => new Literal(new Value(ValueKind.Bool, 0, 0, name == "true")),
                _ when Array.IndexOf(Variables, name) >= 0 => new Variable(name),
                _ => throw Error($"'{name}' is not one of {string.Join(", ", Variables)}"),
            };
        }

        private readonly Node Arithmetic(string op, Node left, Node right) =>
            left.Kind == ValueKind.Bool || right.Kind == ValueKind.Bool
                ? throw Error($"'{op}' on a condition")
                : new Binary(op, left, right, left.Kind == ValueKind.Int && right.Kind == ValueKind.Int ? ValueKind.Int : ValueKind.Real);

        private readonly Node Bool(Node node) => node.Kind == ValueKind.Bool ? node : throw Error("'&&', '||' and '!' need conditions, not numbers");

        private bool Take(string token)
        {
            SkipSpace();
            if (string.CompareOrdinal(_text, _at, token, 0, token.Length) != 0)
            {
                return false;
            }

            // '<' must not take the first half of '<=' (and so on): the longer operators are tried first by the callers.
            _at += token.Length;
            return true;
        }

        private void SkipSpace()
        {
            while (_at < _text.Length && char.IsWhiteSpace(_text[_at]))
            {
                _at++;
            }
        }

        private readonly FormatException Error(string why) => new($"{why} (at character {_at + 1})");
    }
}
