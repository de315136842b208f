package cli

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// configFlags binds every config.Config key as a flag of cmd and knows how to
// merge the YAML file under them: defaults < file < flags set on the
// command line.
type configFlags struct {
	path   string
	values config.Config
}

func addConfigFlags(cmd *cobra.Command) *configFlags {
	cf := &configFlags{values: config.Default()}
	fs := cmd.Flags()
	fs.StringVarP(&cf.path, "config", "c", config.DefaultFile, "YAML configuration file whose keys are these flags' names")
	v := reflect.ValueOf(&cf.values).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, usage := config.Key(t.Field(i)), t.Field(i).Tag.Get("usage")
		switch p := v.Field(i).Addr().Interface().(type) {
		case *string:
			fs.StringVar(p, name, *p, usage)
		case *int:
			fs.IntVar(p, name, *p, usage)
		case *[]string:
			fs.StringArrayVar(p, name, *p, usage)
		case *config.Duration:
			fs.Var(p, name, usage)
		case *settings.Alerting:
			fs.Var(&yamlFlag[settings.Alerting]{target: p}, name, usage)
		case *[]settings.RemoteWrite:
			fs.Var(&yamlListFlag[settings.RemoteWrite]{target: p}, name, usage)
		default:
			panic(fmt.Sprintf("config key %s has unsupported type %T", name, p))
		}
	}
	return cf
}

// load returns the validated configuration.
func (cf *configFlags) load(fs *pflag.FlagSet) (config.Config, error) {
	cfg, err := config.Load(cf.path, fs.Changed("config"))
	if err != nil {
		return cfg, err
	}
	var changed []string
	fs.Visit(func(f *pflag.Flag) { changed = append(changed, f.Name) })
	cfg.Merge(&cf.values, changed)
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return cfg, nil
}

// yamlFlag is a flag for a nested config section: its value is the section
// as YAML (or JSON), with the same keys as in the config file.
type yamlFlag[T any] struct{ target *T }

func (f *yamlFlag[T]) Set(s string) error {
	var v T
	if err := yaml.UnmarshalStrict([]byte(s), &v); err != nil {
		return fmt.Errorf("must be YAML with the config file's keys: %v", err)
	}
	*f.target = v
	return nil
}

func (f *yamlFlag[T]) String() string { return jsonString(f.target) }
func (f *yamlFlag[T]) Type() string   { return "yaml" }

// yamlListFlag is a repeatable flag for a list section: each occurrence adds
// one item given as YAML.
type yamlListFlag[T any] struct {
	target *[]T
	set    bool
}

func (f *yamlListFlag[T]) Set(s string) error {
	var v T
	if err := yaml.UnmarshalStrict([]byte(s), &v); err != nil {
		return fmt.Errorf("must be one item as YAML with the config file's keys: %v", err)
	}
	if !f.set { // the first occurrence replaces the default
		*f.target, f.set = nil, true
	}
	*f.target = append(*f.target, v)
	return nil
}

func (f *yamlListFlag[T]) String() string { return jsonString(f.target) }
func (f *yamlListFlag[T]) Type() string   { return "yaml" }

// jsonString shows a section in --help; secrets print redacted.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "{}" || string(b) == "[]" {
		return ""
	}
	return string(b)
}
