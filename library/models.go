package library

import "time"

// The JSON shapes of the Library API, as github.com/apptainer/
// container-library-client (the client apptainer uses) reads and writes
// them. Fields the client reads but Oyster has no notion of (quotas,
// stars, owners) are left at their zero values.

type entity struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Collections []string  `json:"collections"`
	CreatedAt   time.Time `json:"createdAt"`
}

type collection struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Entity      string    `json:"entity"`
	EntityName  string    `json:"entityName"`
	Containers  []string  `json:"containers"`
	CreatedAt   time.Time `json:"createdAt"`
}

type container struct {
	ID             string                       `json:"id"`
	Name           string                       `json:"name"`
	Description    string                       `json:"description"`
	Collection     string                       `json:"collection"`
	CollectionName string                       `json:"collectionName"`
	Entity         string                       `json:"entity"`
	EntityName     string                       `json:"entityName"`
	Images         []string                     `json:"images"`
	ImageTags      map[string]string            `json:"imageTags"`
	ArchTags       map[string]map[string]string `json:"archTags"`
	CreatedAt      time.Time                    `json:"createdAt"`
}

type image struct {
	ID             string    `json:"id"`
	Hash           string    `json:"hash"`
	Description    string    `json:"description"`
	Container      string    `json:"container"`
	ContainerName  string    `json:"containerName,omitempty"`
	Collection     string    `json:"collection,omitempty"`
	CollectionName string    `json:"collectionName,omitempty"`
	Entity         string    `json:"entity,omitempty"`
	EntityName     string    `json:"entityName,omitempty"`
	Size           int64     `json:"size"`
	Uploaded       bool      `json:"uploaded"`
	Signed         *bool     `json:"signed,omitempty"`
	Architecture   *string   `json:"arch,omitempty"`
	Tags           []string  `json:"tags,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
}

// searchResults is /v1/search's answer.
type searchResults struct {
	Entities    []entity     `json:"entity"`
	Collections []collection `json:"collection"`
	Containers  []container  `json:"container"`
	Images      []image      `json:"image"`
}

// archTag is the body of POST /v2/tags/<container> (and, without Arch,
// of /v1/tags).
type archTag struct {
	Arch    string
	Tag     string
	ImageID string
}
