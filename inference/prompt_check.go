package inference

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// PromptFieldError is a template that refers to a field its data does not
// have: found when the template is loaded against the data type its
// caller registered (PromptOptions.Data), or when it is rendered (a
// struct without the field, a map without the key). Its message names
// the template, the field and the action, e.g.
//
//	prompt npc.dialogue@3: missing field "Nme" (in {{.Persona.Nme}}, line 2, type npc.Definition)
type PromptFieldError struct {
	Ref   PromptRef
	Field string // the missing field or map key, e.g. "Nme"
	Expr  string // the expression that names it, e.g. ".Persona.Nme"
	Line  int    // 1-based line in the template file; 0 when unknown
	Type  string // the type searched, e.g. "npc.Definition"; "" for a map key
	Err   error  // text/template's error, when found while rendering
}

func (e *PromptFieldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "prompt %s: missing field %q (in {{%s}}", e.Ref, e.Field, e.Expr)
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
	}
	if e.Type != "" {
		fmt.Fprintf(&b, ", type %s", e.Type)
	}
	b.WriteByte(')')
	return b.String()
}

// Unwrap returns text/template's error, if any.
func (e *PromptFieldError) Unwrap() error { return e.Err }

// execField matches text/template's execution errors for a missing
// struct field and a missing map key (missingkey=error), e.g.
// `template: npc.dialogue@2:3:15: executing "npc.dialogue@2" at
// <.Persona.Nme>: can't evaluate field Nme in type npc.Definition`.
var execField = regexp.MustCompile(`^template: [^:]*:(\d+):\d+: executing "[^"]*" at <([^>]*)>: (?:can't evaluate field (\S+) in type (\S+)|map has no entry for key "([^"]*)")`)

// renderError wraps an execution error of ref: a *PromptFieldError for a
// missing field or key, else an error naming the template.
func renderError(ref PromptRef, err error) error {
	var ee template.ExecError
	if errors.As(err, &ee) {
		if m := execField.FindStringSubmatch(ee.Err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			fe := &PromptFieldError{Ref: ref, Expr: m[2], Line: line, Field: m[3], Type: m[4], Err: err}
			if m[3] == "" {
				fe.Field = m[5]
			}
			return fe
		}
	}
	return fmt.Errorf("inference: rendering prompt %s: %w", ref, err)
}

// checkPromptFields walks t's parse tree with the type its data will have
// and returns a *PromptFieldError for the first field chain that type
// cannot resolve: in every branch, range and with body, which rendering
// one zero value would not reach. Where a type cannot be known (an
// interface, a function's result other than the template's own funcs, a
// map's key) the walk stops checking that chain rather than guess.
func checkPromptFields(t *template.Template, ref PromptRef, root reflect.Type) error {
	c := &fieldChecker{tmpl: t, ref: ref, root: root}
	c.vars = []scopedVar{{"$", root}}
	return c.walk(t.Tree, t.Tree.Root, root, 0)
}

type scopedVar struct {
	name string
	typ  reflect.Type // nil: unknown
}

type fieldChecker struct {
	tmpl *template.Template
	ref  PromptRef
	root reflect.Type
	vars []scopedVar
}

// maxTemplateDepth bounds {{template}} calls followed by the checker
// (a recursive template would otherwise loop).
const maxTemplateDepth = 8

func (c *fieldChecker) walk(tree *parse.Tree, n parse.Node, dot reflect.Type, depth int) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, x := range n.Nodes {
			if err := c.walk(tree, x, dot, depth); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		_, err := c.pipe(tree, n.Pipe, dot) // its variables live to the end of the enclosing block
		return err
	case *parse.IfNode:
		return c.branch(tree, &n.BranchNode, dot, depth, func(reflect.Type) reflect.Type { return dot })
	case *parse.WithNode:
		return c.branch(tree, &n.BranchNode, dot, depth, func(t reflect.Type) reflect.Type { return t })
	case *parse.RangeNode:
		return c.branch(tree, &n.BranchNode, dot, depth, elemType)
	case *parse.TemplateNode:
		arg := reflect.Type(nil)
		if n.Pipe != nil {
			t, err := c.pipe(tree, n.Pipe, dot)
			if err != nil {
				return err
			}
			arg = t
		}
		sub := c.tmpl.Lookup(n.Name)
		if sub == nil || sub.Tree == nil || depth >= maxTemplateDepth {
			return nil
		}
		saved := c.vars
		c.vars = []scopedVar{{"$", arg}}
		err := c.walk(sub.Tree, sub.Tree.Root, arg, depth+1)
		c.vars = saved
		return err
	}
	return nil
}

// branch checks an if, with or range: the pipeline, the body with the dot
// body(pipeline's type) gives, and the else part with the outer dot.
// Variables the pipeline declares end with the block.
func (c *fieldChecker) branch(tree *parse.Tree, b *parse.BranchNode, dot reflect.Type, depth int, body func(reflect.Type) reflect.Type) error {
	mark := len(c.vars)
	defer func() { c.vars = c.vars[:mark] }()
	t, err := c.pipeNoDecl(tree, b.Pipe, dot)
	if err != nil {
		return err
	}
	inner := body(t)
	if b.NodeType == parse.NodeRange {
		// range $i, $e := …: the key and the element; range $e := …: the element.
		switch len(b.Pipe.Decl) {
		case 1:
			c.vars = append(c.vars, scopedVar{b.Pipe.Decl[0].Ident[0], inner})
		case 2:
			c.vars = append(c.vars, scopedVar{b.Pipe.Decl[0].Ident[0], keyType(t)}, scopedVar{b.Pipe.Decl[1].Ident[0], inner})
		}
	} else {
		for _, d := range b.Pipe.Decl {
			c.vars = append(c.vars, scopedVar{d.Ident[0], t})
		}
	}
	if err := c.walk(tree, b.List, inner, depth); err != nil {
		return err
	}
	c.vars = c.vars[:mark]
	return c.walk(tree, b.ElseList, dot, depth)
}

// pipe checks a pipeline, declares its variables and returns its type.
func (c *fieldChecker) pipe(tree *parse.Tree, p *parse.PipeNode, dot reflect.Type) (reflect.Type, error) {
	t, err := c.pipeNoDecl(tree, p, dot)
	if err != nil {
		return nil, err
	}
	for _, d := range p.Decl {
		if p.IsAssign {
			continue // $x = …: the variable keeps its declared type
		}
		c.vars = append(c.vars, scopedVar{d.Ident[0], t})
	}
	return t, nil
}

func (c *fieldChecker) pipeNoDecl(tree *parse.Tree, p *parse.PipeNode, dot reflect.Type) (reflect.Type, error) {
	if p == nil {
		return nil, nil
	}
	var last reflect.Type
	for _, cmd := range p.Cmds {
		t, err := c.command(tree, cmd, dot)
		if err != nil {
			return nil, err
		}
		last = t
	}
	return last, nil
}

// command checks every argument of cmd and returns its result type:
// the first argument's when it is a value, a template func's result, or
// nil (unknown) for builtins and methods with arguments.
func (c *fieldChecker) command(tree *parse.Tree, cmd *parse.CommandNode, dot reflect.Type) (reflect.Type, error) {
	var result reflect.Type
	for i, arg := range cmd.Args {
		t, err := c.arg(tree, arg, dot)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			result = t
			if id, ok := arg.(*parse.IdentifierNode); ok {
				result = nil
				if fn, ok := promptFuncs[id.Ident]; ok {
					if ft := reflect.TypeOf(fn); ft.NumOut() > 0 {
						result = ft.Out(0)
					}
				}
			}
		}
	}
	return result, nil
}

func (c *fieldChecker) arg(tree *parse.Tree, n parse.Node, dot reflect.Type) (reflect.Type, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot, nil
	case *parse.FieldNode:
		return c.fields(tree, n, n.String(), dot, n.Ident)
	case *parse.VariableNode:
		t := c.lookup(n.Ident[0])
		return c.fields(tree, n, n.String(), t, n.Ident[1:])
	case *parse.ChainNode:
		t, err := c.arg(tree, n.Node, dot)
		if err != nil {
			return nil, err
		}
		return c.fields(tree, n, n.String(), t, n.Field)
	case *parse.PipeNode:
		return c.pipeNoDecl(tree, n, dot)
	case *parse.StringNode:
		return reflect.TypeFor[string](), nil
	}
	return nil, nil // literals, nil, identifiers (funcs)
}

func (c *fieldChecker) lookup(name string) reflect.Type {
	for i := len(c.vars) - 1; i >= 0; i-- {
		if c.vars[i].name == name {
			return c.vars[i].typ
		}
	}
	return nil
}

// fields resolves the chain idents from t and reports the first field t
// does not have. An unknown t (nil) ends the check with an unknown type.
func (c *fieldChecker) fields(tree *parse.Tree, n parse.Node, expr string, t reflect.Type, idents []string) (reflect.Type, error) {
	for _, id := range idents {
		if t == nil {
			return nil, nil
		}
		next, ok := fieldType(t, id)
		if !ok {
			line := 0
			if loc, _ := tree.ErrorContext(n); loc != "" {
				// loc is "name:line:col".
				parts := strings.Split(loc, ":")
				if len(parts) >= 3 {
					line, _ = strconv.Atoi(parts[len(parts)-2])
				}
			}
			return nil, &PromptFieldError{Ref: c.ref, Field: id, Expr: expr, Line: line, Type: deref(t).String()}
		}
		t = next
	}
	return t, nil
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldType is the type of t.name as text/template evaluates it: a
// method (of the value or its pointer), an exported struct field, or a
// string-keyed map's element. ok is false when t cannot have it; an
// unknown result (an interface) is (nil, true).
func fieldType(t reflect.Type, name string) (reflect.Type, bool) {
	if t.Kind() == reflect.Interface {
		return nil, true
	}
	base := deref(t)
	if m, ok := reflect.PointerTo(base).MethodByName(name); ok {
		if m.Type.NumOut() == 0 {
			return nil, true
		}
		return known(m.Type.Out(0)), true
	}
	switch base.Kind() {
	case reflect.Struct:
		if f, ok := base.FieldByName(name); ok && f.IsExported() {
			return known(f.Type), true
		}
		return nil, false
	case reflect.Map:
		if base.Key().Kind() != reflect.String {
			return nil, true
		}
		return known(base.Elem()), true
	case reflect.Interface:
		return nil, true
	}
	return nil, false
}

// known maps interface types, whose dynamic type is unknown here, to nil.
func known(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Interface {
		return nil
	}
	return t
}

// elemType is the type range gives the dot: a slice, array, map or
// channel's element, an int for an integer; nil when unknown.
func elemType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	t = deref(t)
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		return known(t.Elem())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return t
	}
	return nil
}

// keyType is the type of range's first variable of two: a map's key, an
// int index otherwise.
func keyType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	if t = deref(t); t.Kind() == reflect.Map {
		return known(t.Key())
	}
	return reflect.TypeFor[int]()
}
