package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RobotLimits bound the robot tokens users make for themselves in the web
// UI and the API (`registry token`, an operator's tool, is not bound).
type RobotLimits struct {
	// PerOwner is how many live (not revoked, not expired) robots one
	// user may own.
	PerOwner int
	// MaxLifetime caps a robot's expiry; every robot a user makes expires.
	MaxLifetime time.Duration
}

// NotPermittedError refuses a robot operation the caller may not do; its
// message says why and may be shown to them.
type NotPermittedError struct{ Reason string }

func (e *NotPermittedError) Error() string { return e.Reason }

// ErrNoSuchRobot answers for a robot that does not exist or that the
// caller may not see: the two are not told apart.
var ErrNoSuchRobot = errors.New("no such robot token")

// RobotLimits are the bounds on the robots users make.
func (s *Service) RobotLimits() RobotLimits { return s.opts.Robots }

// RobotsOf lists the robots id may manage, newest first: an admin's are
// all of them, a user's those they own. Robots manage none.
func (s *Service) RobotsOf(id Identity) ([]Robot, error) {
	if err := mayManageRobots(id); err != nil {
		return nil, err
	}
	all, err := s.robots.List()
	if err != nil {
		return nil, err
	}
	if id.Admin {
		return all, nil
	}
	return slices.DeleteFunc(all, func(r Robot) bool { return r.Owner != id.Name }), nil
}

// CreateRobot makes a robot owned by id and returns it with its token,
// shown once. id may grant only what it may do itself, in each namespace
// named; the expiry is required and capped; a user may own only so many
// live robots.
func (s *Service) CreateRobot(id Identity, name string, grants []NamespaceGrant, expires time.Time) (Robot, string, error) {
	if err := mayManageRobots(id); err != nil {
		return Robot{}, "", err
	}
	now := s.opts.Now()
	if expires.IsZero() {
		return Robot{}, "", &InvalidRobotError{"a robot token needs an expiry"}
	}
	if limit := now.Add(s.opts.Robots.MaxLifetime); expires.After(limit) {
		return Robot{}, "", &InvalidRobotError{fmt.Sprintf("a robot token may live at most %s (until %s)", s.opts.Robots.MaxLifetime, limit.UTC().Format(time.RFC3339))}
	}
	for _, g := range grants {
		if err := s.mayGrant(id, g); err != nil {
			return Robot{}, "", err
		}
	}
	admit := func(m map[string]Robot) error {
		if live := s.liveRobots(m, id.Name, now); live >= s.opts.Robots.PerOwner {
			return &NotPermittedError{fmt.Sprintf("%s already has %d live robot tokens, the most one user may have; revoke one first", id.Name, live)}
		}
		s.pruneDeadRobots(m, id.Name, now)
		return nil
	}
	r, token, err := s.robots.create(Robot{Name: name, Owner: id.Name, Grants: grants, Expires: expires}, now, admit)
	if err == nil {
		s.log.Info("auth: robot token created", "id", r.ID, "name", r.Name, "owner", r.Owner)
	}
	return r, token, err
}

// liveRobots counts owner's robots that are neither revoked nor expired.
func (s *Service) liveRobots(m map[string]Robot, owner string, now time.Time) int {
	live := 0
	for _, r := range m {
		if r.Owner == owner && r.usable(now) == nil {
			live++
		}
	}
	return live
}

// pruneDeadRobots keeps the file bounded: of owner's revoked and expired
// robots, only the PerOwner newest stay listed, so that making and
// revoking tokens over and over cannot grow it without end.
func (s *Service) pruneDeadRobots(m map[string]Robot, owner string, now time.Time) {
	var dead []Robot
	for _, r := range m {
		if r.Owner == owner && r.usable(now) != nil {
			dead = append(dead, r)
		}
	}
	slices.SortFunc(dead, func(a, b Robot) int { return b.Created.Compare(a.Created) })
	for _, r := range dead[min(len(dead), s.opts.Robots.PerOwner):] {
		delete(m, r.ID)
	}
}

// RevokeRobot revokes a robot id may manage.
func (s *Service) RevokeRobot(id Identity, robotID string) error {
	mine, err := s.RobotsOf(id)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(mine, func(r Robot) bool { return r.ID == robotID }) {
		return ErrNoSuchRobot
	}
	if err := s.robots.Revoke(robotID); err != nil {
		return err
	}
	s.log.Info("auth: robot token revoked", "id", robotID, "by", id.Name)
	return nil
}

// mayManageRobots refuses anonymous callers and robots: a robot token
// cannot make more of itself.
func mayManageRobots(id Identity) error {
	switch {
	case id.Name == "":
		return &NotPermittedError{"log in to manage robot tokens"}
	case id.Robot != nil:
		return &NotPermittedError{"a robot token cannot manage robot tokens; log in as a user"}
	}
	return nil
}

// mayGrant refuses a grant of actions id does not have in the namespace:
// an admin may grant anything, a user what their role there allows.
func (s *Service) mayGrant(id Identity, g NamespaceGrant) error {
	if id.Admin {
		return nil
	}
	var missing []string
	for _, a := range g.Actions {
		if !s.opts.Policy.role(id, g.Namespace).allows(a) {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		return &NotPermittedError{fmt.Sprintf("you may not %s in namespace %q, so a robot token of yours may not either (pulling public repositories needs no scope)", strings.Join(missing, ", "), g.Namespace)}
	}
	return nil
}
